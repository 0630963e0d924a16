import Foundation

/// Inline SVG figures for the HTML report: axes with round ticks, line charts, grouped bars, step
/// histograms and a density map with points on top. Pure string building; every figure is a
/// self-contained `<svg>` element with a `<title>`, sized in CSS pixels, readable without JavaScript.
///
/// Large inputs are drawn compactly: the density map is one `<path>` per shade (one sub-path per
/// non-empty cell) and points are one `<path>` per colour of zero-length round-capped strokes, so a
/// map's size grows with its cells and its highlighted points, never with the pool.
enum SVGChart {
    /// A named series drawn in one colour.
    struct Series {
        let name: String
        let values: [Double]
        let color: String
    }

    /// A vertical marker line at `x`, labelled.
    struct Marker {
        let x: Double
        let label: String
        let color: String
    }

    /// Points drawn in one colour on the map.
    struct PointSet {
        let name: String
        let x: [Float]
        let y: [Float]
        let color: String
        let size: Double
    }

    /// Categorical colours (Tableau 10, then 10 lighter ones); labels past 20 reuse them.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                          "#9c755f", "#bab0ac", "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a",
                          "#d62728", "#ff9896", "#9467bd", "#c5b0d5"]

    static let width = 640.0, height = 300.0
    static let margin = (left: 64.0, right: 16.0, top: 22.0, bottom: 44.0)

    /// Text escaped for HTML and SVG content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, no trailing ".0".
    static func coordinate(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite ? [lo] : [] }
        let raw = (hi - lo) / Double(max(count, 1))
        let power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var out: [Double] = []
        var tick = (lo / step).rounded(.up) * step
        while tick <= hi + step * 1e-9 {
            out.append(abs(tick) < step * 1e-9 ? 0 : tick)
            tick += step
        }
        return out
    }

    /// A tick label: up to 4 significant digits.
    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) >= 1e5 || abs(value) < 1e-3 { return String(format: "%.2g", value) }
        return String(format: "%.4g", value)
    }

    /// The opening of a figure, its title (the accessible name) and a white background.
    static func open(_ id: String, title: String, width: Double = width, height: Double = height) -> String {
        "<svg class=\"figure\" data-figure=\"\(escape(id))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
            + "width=\"\(coordinate(width))\" height=\"\(coordinate(height))\" viewBox=\"0 0 \(coordinate(width)) \(coordinate(height))\">"
            + "<title>\(escape(title))</title><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
    }

    /// Axes of a plot area mapping [x0, x1] × [y0, y1], with ticks and axis titles.
    static func axes(x: (Double, Double), y: (Double, Double), xTitle: String, yTitle: String,
                     width: Double = width, height: Double = height, xTicks: Bool = true, xIntegers: Bool = false) -> String {
        let left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom
        func px(_ v: Double) -> Double { left + (v - x.0) / max(x.1 - x.0, 1e-300) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (v - y.0) / max(y.1 - y.0, 1e-300) * (bottom - top) }
        var out = "<g class=\"axes\" font-size=\"11\" fill=\"#333\" stroke=\"none\">"
        for tick in ticks(y.0, y.1) {
            let p = coordinate(py(tick))
            out += "<line x1=\"\(coordinate(left))\" x2=\"\(coordinate(right))\" y1=\"\(p)\" y2=\"\(p)\" stroke=\"#e5e5e5\"/>"
            out += "<text x=\"\(coordinate(left - 6))\" y=\"\(p)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(label(tick))</text>"
        }
        // Steps and rounds are whole numbers: their axis has no tick between two of them.
        for tick in xTicks ? ticks(x.0, x.1, count: 6).filter({ !xIntegers || $0 == $0.rounded() }) : [] {
            let p = coordinate(px(tick))
            out += "<line x1=\"\(p)\" x2=\"\(p)\" y1=\"\(coordinate(bottom))\" y2=\"\(coordinate(bottom + 4))\" stroke=\"#333\"/>"
            out += "<text x=\"\(p)\" y=\"\(coordinate(bottom + 16))\" text-anchor=\"middle\">\(label(tick))</text>"
        }
        out += "<path d=\"M\(coordinate(left)) \(coordinate(top))V\(coordinate(bottom))H\(coordinate(right))\" fill=\"none\" stroke=\"#333\"/>"
        out += "<text x=\"\(coordinate((left + right) / 2))\" y=\"\(coordinate(height - 6))\" text-anchor=\"middle\">\(escape(xTitle))</text>"
        // The y title sits above the plot area, left-aligned with it: beside the axis it would collide
        // with long tick labels.
        out += "<text class=\"y-title\" x=\"\(coordinate(left))\" y=\"\(coordinate(top - 5))\" text-anchor=\"start\">\(escape(yTitle))</text>"
        return out + "</g>"
    }

    /// A legend row of coloured swatches, top right of the plot area.
    static func legend(_ entries: [(name: String, color: String)], width: Double = width) -> String {
        guard entries.count > 1 else { return "" }
        var out = "<g class=\"legend\" font-size=\"11\" fill=\"#333\">"
        for (i, entry) in entries.enumerated() {
            let y = margin.top + 6 + Double(i) * 15
            out += "<rect x=\"\(coordinate(width - margin.right - 150))\" y=\"\(coordinate(y - 5))\" width=\"10\" height=\"10\" fill=\"\(entry.color)\"/>"
            out += "<text x=\"\(coordinate(width - margin.right - 136))\" y=\"\(coordinate(y))\" dominant-baseline=\"middle\">\(escape(entry.name))</text>"
        }
        return out + "</g>"
    }

    /// Series against their step index (1-based), e.g. a loss per iteration.
    static func lineChart(id: String, title: String, series: [Series], xTitle: String, yTitle: String) -> String {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        let steps = series.map(\.values.count).max() ?? 0
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let pad = (hi - lo) * 0.05
        let x = (1.0, Double(max(steps, 2))), y = (lo - pad, hi + pad)
        let left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom
        var out = open(id, title: title) + axes(x: x, y: y, xTitle: xTitle, yTitle: yTitle, xIntegers: true)
        for entry in series {
            var d = ""
            for (i, value) in entry.values.enumerated() where value.isFinite {
                let px = left + (Double(i + 1) - x.0) / (x.1 - x.0) * (right - left)
                let py = bottom - (value - y.0) / (y.1 - y.0) * (bottom - top)
                d += (d.isEmpty ? "M" : "L") + coordinate(px) + " " + coordinate(py)
            }
            out += "<path class=\"series\" d=\"\(d)\" fill=\"none\" stroke=\"\(entry.color)\" stroke-width=\"1.5\"/>"
        }
        return out + legend(series.map { ($0.name, $0.color) }) + "</svg>"
    }

    /// Grouped bars: for each category, one bar per series (e.g. the pool's and a selection's class shares).
    static func groupedBars(id: String, title: String, categories: [String], series: [Series], yTitle: String) -> String {
        let hi = max(series.flatMap(\.values).filter(\.isFinite).max() ?? 1, 1e-12) * 1.1
        let left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom
        var out = open(id, title: title)
        out += axes(x: (0, 0), y: (0, hi), xTitle: categories.count > 40 ? "class (\(categories.count))" : "class",
                    yTitle: yTitle, xTicks: false)
        let slot = (right - left) / Double(max(categories.count, 1))
        let bar = slot * 0.8 / Double(max(series.count, 1))
        for (s, entry) in series.enumerated() {
            var d = ""
            for (c, value) in entry.values.enumerated() where value > 0 && value.isFinite {
                let x = left + Double(c) * slot + slot * 0.1 + Double(s) * bar
                let h = value / hi * (bottom - top)
                d += "M\(coordinate(x)) \(coordinate(bottom))v-\(coordinate(h))h\(coordinate(max(bar, 0.2)))v\(coordinate(h))z"
            }
            out += "<path class=\"bars\" d=\"\(d)\" fill=\"\(entry.color)\"/>"
        }
        if categories.count <= 40 {
            out += "<g font-size=\"10\" fill=\"#333\">"
            for (c, name) in categories.enumerated() {
                out += "<text x=\"\(coordinate(left + (Double(c) + 0.5) * slot))\" y=\"\(coordinate(bottom + 12))\" text-anchor=\"middle\">\(escape(name))</text>"
            }
            out += "</g>"
        }
        return out + legend(series.map { ($0.name, $0.color) }) + "</svg>"
    }

    /// Histograms over the same bins as step lines (shares of each series' total), with marker lines.
    static func histogram(id: String, title: String, range: (Double, Double), series: [Series], markers: [Marker],
                          xTitle: String) -> String {
        let shares = series.map { entry -> [Double] in
            let total = entry.values.reduce(0, +)
            return entry.values.map { total > 0 ? $0 / total : 0 }
        }
        let hi = max(shares.flatMap { $0 }.max() ?? 1, 1e-12) * 1.1
        let left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom
        var out = open(id, title: title) + axes(x: range, y: (0, hi), xTitle: xTitle, yTitle: "share of the pool")
        for (entry, values) in zip(series, shares) {
            let binWidth = (right - left) / Double(max(values.count, 1))
            var d = "M\(coordinate(left)) \(coordinate(bottom))"
            for (b, value) in values.enumerated() {
                let y = bottom - value / hi * (bottom - top)
                d += "V\(coordinate(y))H\(coordinate(left + Double(b + 1) * binWidth))"
            }
            d += "V\(coordinate(bottom))"
            out += "<path class=\"series\" d=\"\(d)\" fill=\"\(entry.color)\" fill-opacity=\"\(series.count == 1 ? "0.35" : "0.12")\" stroke=\"\(entry.color)\" stroke-width=\"1.5\"/>"
        }
        for (i, marker) in markers.enumerated() where marker.x.isFinite {
            let x = left + (marker.x - range.0) / max(range.1 - range.0, 1e-300) * (right - left)
            out += "<line class=\"marker\" x1=\"\(coordinate(x))\" x2=\"\(coordinate(x))\" y1=\"\(coordinate(top))\" y2=\"\(coordinate(bottom))\" stroke=\"\(marker.color)\" stroke-dasharray=\"4 3\"/>"
            out += "<text x=\"\(coordinate(x - 4))\" y=\"\(coordinate(bottom - 8 - Double(i) * 13))\" text-anchor=\"end\" font-size=\"11\" fill=\"\(marker.color)\">\(escape(marker.label))</text>"
        }
        return out + legend(series.map { ($0.name, $0.color) }) + "</svg>"
    }

    /// The pool as a density (a `bins.0 × bins.1` 2-D histogram over `bounds`, shaded on a log scale
    /// in 8 steps) with point sets on top, each dot outlined in white.
    static func densityMap(id: String, title: String, x: [Float], y: [Float],
                           bounds: (x: (Double, Double), y: (Double, Double)), bins: (Int, Int),
                           points: [PointSet], xTitle: String, yTitle: String,
                           width: Double = 640, height: Double = 480) -> String {
        let left = margin.left, right = width - margin.right, top = margin.top, bottom = height - margin.bottom
        let xSpan = max(bounds.x.1 - bounds.x.0, 1e-12), ySpan = max(bounds.y.1 - bounds.y.0, 1e-12)
        func px(_ v: Double) -> Double { left + (v - bounds.x.0) / xSpan * (right - left) }
        func py(_ v: Double) -> Double { bottom - (v - bounds.y.0) / ySpan * (bottom - top) }
        var counts = [Int](repeating: 0, count: bins.0 * bins.1)
        for i in x.indices {
            let bx = min(bins.0 - 1, max(0, Int((Double(x[i]) - bounds.x.0) / xSpan * Double(bins.0))))
            let by = min(bins.1 - 1, max(0, Int((Double(y[i]) - bounds.y.0) / ySpan * Double(bins.1))))
            counts[by * bins.0 + bx] += 1
        }
        let most = Double(counts.max() ?? 0)
        let cellWidth = (right - left) / Double(bins.0), cellHeight = (bottom - top) / Double(bins.1)
        var shades = [String](repeating: "", count: 8)
        for by in 0..<bins.1 {
            for bx in 0..<bins.0 where counts[by * bins.0 + bx] > 0 {
                let level = min(7, Int(log1p(Double(counts[by * bins.0 + bx])) / log1p(most) * 7.999))
                shades[level] += "M\(coordinate(left + Double(bx) * cellWidth)) \(coordinate(bottom - Double(by + 1) * cellHeight))"
                    + "h\(coordinate(cellWidth))v\(coordinate(cellHeight))h-\(coordinate(cellWidth))z"
            }
        }
        var out = open(id, title: title, width: width, height: height)
        out += axes(x: bounds.x, y: bounds.y, xTitle: xTitle, yTitle: yTitle, width: width, height: height)
        out += "<g class=\"density\" fill=\"#334\">"
        for (level, d) in shades.enumerated() where !d.isEmpty {
            out += "<path d=\"\(d)\" fill-opacity=\"\(String(format: "%.3f", 0.06 + 0.64 * Double(level) / 7))\"/>"
        }
        out += "</g>"
        for set in points where !set.x.isEmpty {
            var d = ""
            for i in set.x.indices { d += "M\(coordinate(px(Double(set.x[i])))) \(coordinate(py(Double(set.y[i]))))h0" }
            out += "<path class=\"points\" d=\"\(d)\" stroke=\"#fff\" stroke-width=\"\(coordinate(set.size + 2))\" stroke-linecap=\"round\"/>"
            out += "<path class=\"points\" d=\"\(d)\" stroke=\"\(set.color)\" stroke-width=\"\(coordinate(set.size))\" stroke-linecap=\"round\"><title>\(escape(set.name))</title></path>"
        }
        return out + "</svg>"
    }
}
