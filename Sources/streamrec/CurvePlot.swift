/// Draws a learning curve as a small self-contained SVG: windowed RMSE on the
/// left axis and HR@N on the right, against events seen.
enum CurvePlot {
    struct Point {
        var events: Int
        var rmse: Double
        var hitRate: Double?
    }

    static func svg(_ points: [Point], title: String, hrLabel: String) -> String {
        let width = 720.0, height = 360.0, left = 60.0, right = 60.0, top = 40.0, bottom = 40.0
        let plotW = width - left - right, plotH = height - top - bottom
        let maxEvents = Double(points.last?.events ?? 1)
        let rmses = points.map(\.rmse).filter(\.isFinite)
        let (rLow, rHigh) = ((rmses.min() ?? 0) * 0.95, (rmses.max() ?? 1) * 1.05)
        let hrs = points.compactMap(\.hitRate).filter(\.isFinite)
        let hHigh = max(0.01, (hrs.max() ?? 0.1) * 1.1)
        func x(_ e: Int) -> Double { left + Double(e) / maxEvents * plotW }
        func yR(_ v: Double) -> Double { top + (1 - (v - rLow) / max(1e-9, rHigh - rLow)) * plotH }
        func yH(_ v: Double) -> Double { top + (1 - v / hHigh) * plotH }
        func f(_ v: Double) -> String { String(Double(Int(v * 10)) / 10) }
        func label(_ v: Double) -> String { String(Double(Int(v * 1000)) / 1000) }

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="14">\(title)</text>
        <rect x="\(f(left))" y="\(f(top))" width="\(f(plotW))" height="\(f(plotH))" fill="none" stroke="#999"/>

        """
        for k in 0...4 {
            let fraction = Double(k) / 4
            let yy = top + (1 - fraction) * plotH
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(yy + 4))\" text-anchor=\"end\" fill=\"#1f77b4\">\(label(rLow + fraction * (rHigh - rLow)))</text>\n"
            out += "<text x=\"\(f(width - right + 6))\" y=\"\(f(yy + 4))\" fill=\"#d62728\">\(label(fraction * hHigh))</text>\n"
            out += "<text x=\"\(f(left + fraction * plotW))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(Int(fraction * maxEvents))</text>\n"
        }
        let rmseLine = points.filter { $0.rmse.isFinite }.map { "\(f(x($0.events))),\(f(yR($0.rmse)))" }
        out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(rmseLine.joined(separator: " "))\"/>\n"
        let hrLine = points.compactMap { p in p.hitRate.map { "\(f(x(p.events))),\(f(yH($0)))" } }
        if !hrLine.isEmpty {
            out += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"\(hrLine.joined(separator: " "))\"/>\n"
        }
        out += """
        <text x="\(f(left))" y="\(f(height - 6))" fill="#1f77b4">RMSE (window)</text>
        <text x="\(f(width - right))" y="\(f(height - 6))" text-anchor="end" fill="#d62728">\(hrLabel) (window)</text>
        <text x="\(f(width / 2))" y="\(f(height - 6))" text-anchor="middle">events</text>
        </svg>

        """
        return out
    }
}
