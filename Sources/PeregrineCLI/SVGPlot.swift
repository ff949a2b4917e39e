import Engine
import Foundation

/// A dependency-free SVG chart: output tokens/s (bars) and TTFT p50 (line) per load level.
enum SVGPlot {
  static func throughputAndTTFT(_ results: [LoadLevelResult]) -> String {
    let w = 640.0, h = 360.0, left = 60.0, right = 60.0, top = 30.0, bottom = 50.0
    let plotW = w - left - right, plotH = h - top - bottom
    let maxTPS = max(1, results.map(\.outputTokensPerSecond).max() ?? 1) * 1.1
    let maxTTFT = max(0.001, results.map(\.ttft.p50).filter(\.isFinite).max() ?? 1) * 1.1
    let step = plotW / Double(max(1, results.count))
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    svg += "<text x=\"\(left)\" y=\"18\">output tokens/s (bars, left) and TTFT p50 seconds (line, right)</text>\n"
    svg += "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(left + plotW)\" y2=\"\(top + plotH)\" stroke=\"black\"/>\n"
    var points: [String] = []
    for (i, r) in results.enumerated() {
      let x = left + step * Double(i)
      let bh = plotH * r.outputTokensPerSecond / maxTPS
      svg += "<rect x=\"\(x + step * 0.2)\" y=\"\(top + plotH - bh)\" width=\"\(step * 0.6)\" height=\"\(bh)\" fill=\"#4a7ebb\"/>\n"
      svg += "<text x=\"\(x + step * 0.5)\" y=\"\(top + plotH - bh - 4)\" text-anchor=\"middle\">\(String(format: "%.0f", r.outputTokensPerSecond))</text>\n"
      let label = r.requestRate.map { String(format: "%.2f req/s", $0) } ?? "C=\(r.concurrency)"
      svg += "<text x=\"\(x + step * 0.5)\" y=\"\(top + plotH + 18)\" text-anchor=\"middle\">\(label)</text>\n"
      if r.ttft.p50.isFinite {
        points.append("\(x + step * 0.5),\(top + plotH - plotH * r.ttft.p50 / maxTTFT)")
      }
    }
    svg += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#d9534f\" stroke-width=\"2\"/>\n"
    svg += "<text x=\"\(w - right + 4)\" y=\"\(top + 10)\" fill=\"#d9534f\">\(String(format: "%.2f s", maxTTFT))</text>\n"
    svg += "<text x=\"4\" y=\"\(top + 10)\" fill=\"#4a7ebb\">\(String(format: "%.0f", maxTPS))</text>\n"
    svg += "</svg>\n"
    return svg
  }
}
