import Foundation
import Testing
import TestSupport

/// Headless Chromium, if installed (`make test` installs Debian's `chromium`; SELECTJOB_CHROMIUM overrides).
enum Browser {
    static let path: String? = {
        if let path = ProcessInfo.processInfo.environment["SELECTJOB_CHROMIUM"], !path.isEmpty { return path }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }()

    static var missingReason: Comment {
        "headless Chromium not found (install Debian's chromium, as `make test` does, or set SELECTJOB_CHROMIUM): browser test skipped"
    }

    /// Runs headless Chromium on `page` with `arguments`, killed after `seconds`; its own profile folder.
    static func run(_ arguments: [String], page: URL, seconds: Double = 120) throws -> Outcome {
        let profileFolder = try TemporaryFolder(prefix: "chromium")
        let profile = profileFolder.url
        let process = prepareProcess(URL(fileURLWithPath: path!), [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--no-first-run", "--mute-audio",
            "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
        ] + arguments + [page.absoluteString], in: page.deletingLastPathComponent())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        // Drain both pipes while waiting (a full pipe would block Chromium).
        nonisolated(unsafe) var stdout = Data(), stderr = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { stderr = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// The report in a real browser: it renders without console errors, every figure has a size, and the
/// screenshot is not blank. The screenshot is kept in .build/test-artifacts/.
@Suite(.serialized) struct ReportBrowserTests {
    /// Measures every figure after load and records any error event; the page itself has no script.
    static let probe = """
        <script>
        window.__errors = [];
        window.addEventListener('error', function (e) {
          window.__errors.push(String(e.message || (e.target && (e.target.src || e.target.href)) || 'error'));
        }, true);
        window.addEventListener('load', function () {
          var figures = Array.prototype.map.call(document.querySelectorAll('svg.figure'), function (svg) {
            var box = svg.getBoundingClientRect();
            return {id: svg.getAttribute('data-figure'), width: box.width, height: box.height,
                    shapes: svg.querySelectorAll('path, rect, line').length};
          });
          var out = document.createElement('pre');
          out.id = 'probe';
          out.textContent = JSON.stringify({figures: figures, errors: window.__errors});
          document.body.appendChild(out);
        });
        </script>
        """

    struct Probe: Decodable {
        struct Figure: Decodable {
            let id: String
            let width: Double
            let height: Double
            let shapes: Int
        }
        let figures: [Figure]
        let errors: [String]
    }

    static let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")

    @Test(.enabled(if: Browser.path != nil, Browser.missingReason))
    func reportRendersInChromium() throws {
        let workspace = try Workspace()
        try workspace.writeFeatures(rows: 2000, dimensions: 24)
        try workspace.writeJob("activeft", method: #"{"name": "activeft", "iterations": 60}"#, budget: #"{"count": 40}"#)
        try workspace.writeJob("kmeans", method: #"{"name": "kmeans"}"#, budget: #"{"count": 40}"#)
        for job in ["activeft", "kmeans"] { #expect(try selectjob(["run", "--quiet", "jobs/\(job).json"], in: workspace.url).status == 0) }
        #expect(try selectjob(["compare", "--db", "data/sel.sqlite", "--job", "activeft", "--job", "kmeans", "--holdout", "0.2"],
                              in: workspace.url).status == 0)
        let single = try selectjob(["report", "--db", "data/sel.sqlite", "--job", "activeft", "-o", "report.html"], in: workspace.url)
        let compared = try selectjob(["report", "--db", "data/sel.sqlite", "--compare", "--job", "activeft", "--job", "kmeans",
                                      "-o", "compare.html"], in: workspace.url)
        #expect(single.status == 0 && compared.status == 0, "\(single.stderr)\(compared.stderr)")

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        // The control: a blank page's screenshot decodes to one colour and no ink, so the checks below can fail.
        let blank = workspace.url.appendingPathComponent("blank.html")
        try Data("<!DOCTYPE html><html><body style=\"background:#f6f6f4\"></body></html>".utf8).write(to: blank)
        let blankShot = workspace.url.appendingPathComponent("blank.png")
        #expect(try Browser.run(["--window-size=400,300", "--screenshot=\(blankShot.path)"], page: blank).status == 0)
        let control = try PNGImage(contentsOf: blankShot)
        #expect(control.width == 400 && control.height == 300)
        #expect(control.inkShareAndColours.ink == 0 && control.inkShareAndColours.colours == 1)
        #expect(Array(control.rgb.prefix(3)) == [0xf6, 0xf6, 0xf4])

        for (name, maps) in [("report", 1), ("compare", 2)] {
            let page = workspace.url.appendingPathComponent("\(name).html")
            let html = String(decoding: try Data(contentsOf: page), as: UTF8.self)

            // 1. The page as written: no console message at all (it has no script; a failed load or
            //    a CSS/SVG error would be logged).
            let screenshot = Self.artifacts.appendingPathComponent("\(name).png")
            try? FileManager.default.removeItem(at: screenshot)
            let shot = try Browser.run(["--window-size=1360,2400", "--screenshot=\(screenshot.path)"], page: page)
            #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(2000))")
            let console = shot.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") }
            #expect(console.isEmpty, "console messages: \(console)")

            // 2. The screenshot is a page, not a blank: much ink, many colours.
            let image = try PNGImage(contentsOf: screenshot)
            #expect(image.width == 1360 && image.height == 2400)
            let (ink, colours) = image.inkShareAndColours
            #expect(ink > 0.2, "only \(ink) of the pixels differ from the background")
            #expect(colours > 100, "only \(colours) colours")

            // 3. With a probe added: every figure laid out with a size, no error event.
            let probed = workspace.url.appendingPathComponent("\(name)-probe.html")
            try Data(html.replacingOccurrences(of: "<head>", with: "<head>" + Self.probe).utf8).write(to: probed)
            let dump = try Browser.run(["--virtual-time-budget=10000", "--dump-dom"], page: probed)
            #expect(dump.status == 0, "chromium: \(dump.stderr.suffix(2000))")
            guard let start = dump.stdout.range(of: "<pre id=\"probe\">"),
                  let end = dump.stdout.range(of: "</pre>", range: start.upperBound..<dump.stdout.endIndex) else {
                Issue.record("the probe did not run: \(dump.stdout.prefix(500))")
                continue
            }
            let json = dump.stdout[start.upperBound..<end.lowerBound].replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&amp;", with: "&")
            let probe = try JSONDecoder().decode(Probe.self, from: Data(json.utf8))
            #expect(probe.errors.isEmpty, "\(probe.errors)")
            let ids = probe.figures.map(\.id)
            #expect(ids.filter { $0 == "map" }.count == maps)
            for id in ["curve-loss", "classes", "distances"] { #expect(ids.contains(id), "\(id) missing from \(ids)") }
            for figure in probe.figures {
                #expect(figure.width >= 300 && figure.height >= 200, "\(figure.id) is \(figure.width) × \(figure.height)")
                #expect(figure.shapes > 3, "\(figure.id) has \(figure.shapes) shapes")
            }
        }
    }
}
