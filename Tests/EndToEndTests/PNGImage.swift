import Compression
import Foundation
import TestSupport

/// A decoded 8-bit RGB or RGBA PNG (what Chromium's `--screenshot` writes), for checking a screenshot
/// is not blank. Non-interlaced only; other kinds are reported as errors, not guessed at.
struct PNGImage {
    let width: Int
    let height: Int
    /// RGB triples, row after row (alpha dropped).
    let rgb: [UInt8]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        guard data.count > 8, data[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw Failure(description: "\(url.path): not a PNG file")
        }
        func be32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var offset = 8, width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        while offset + 8 <= data.count {
            let length = be32(offset), type = String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = (offset + 8)..<(offset + 8 + length)
            guard body.upperBound + 4 <= data.count else { throw Failure(description: "\(url.path): truncated chunk \(type)") }
            switch type {
            case "IHDR":
                width = be32(body.lowerBound)
                height = be32(body.lowerBound + 4)
                let depth = data[body.lowerBound + 8], colour = data[body.lowerBound + 9], interlace = data[body.lowerBound + 12]
                guard depth == 8, colour == 2 || colour == 6, interlace == 0 else {
                    throw Failure(description: "\(url.path): PNG depth \(depth), colour type \(colour), interlace \(interlace) not supported")
                }
                channels = colour == 6 ? 4 : 3
            case "IDAT": compressed += data[body]
            default: break
            }
            offset = body.upperBound + 4
        }
        guard width > 0, height > 0 else { throw Failure(description: "\(url.path): no IHDR chunk") }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        let failure = raw.withUnsafeMutableBytes { out in
            compressed.withUnsafeBytes { input -> Inflate.Failure? in
                do throws(Inflate.Failure) { try Inflate.zlibWrapped(input, into: out) } catch { return error }
                return nil
            }
        }
        if let failure {
            throw Failure(description: "\(url.path): zlib status \(failure.status), \(failure.produced) of \(raw.count) bytes")
        }
        // Undo the per-row filters (PNG specification, section 9).
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = Int(raw[row * (stride + 1) + 1 + i])
                let a = i >= channels ? Int(pixels[row * stride + i - channels]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + i]) : 0
                let c = row > 0 && i >= channels ? Int(pixels[(row - 1) * stride + i - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "\(url.path): unknown row filter \(filter)")
                }
                pixels[row * stride + i] = UInt8((x + predicted) & 0xFF)
            }
        }
        self.width = width
        self.height = height
        rgb = channels == 3 ? pixels : (0..<(width * height)).flatMap { pixels[($0 * 4)..<($0 * 4 + 3)] }
    }

    /// The share of pixels that differ from the top-left pixel (the page background), and the number
    /// of distinct colours.
    var inkShareAndColours: (ink: Double, colours: Int) {
        let background = (rgb[0], rgb[1], rgb[2])
        var ink = 0
        var colours = Set<UInt32>()
        for p in 0..<(width * height) {
            let (r, g, b) = (rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2])
            if (r, g, b) != background { ink += 1 }
            colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
        }
        return (Double(ink) / Double(width * height), colours.count)
    }
}
