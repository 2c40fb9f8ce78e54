using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;

namespace ChatBot.AdminPortal.Charts;

/// <summary>One bar: its label on the axis and its value (shown on hover and to screen readers).</summary>
public sealed record ChartPoint(string Label, double Value, string ValueText);

/// <summary>
/// A bar chart drawn on the server as inline SVG: no script, no third-party code, nothing fetched at run time. It
/// scales to its container, labels every few days so the axis stays readable, and each bar carries a
/// <c>&lt;title&gt;</c> with its day and value.
/// </summary>
public static class BarChart
{
    private const double Width = 640;
    private const double Height = 180;
    private const double Left = 44;
    private const double Bottom = 22;
    private const double Top = 10;

    public static IHtmlContent Render(string title, IReadOnlyList<ChartPoint> points, string cssClass = "chart")
    {
        ArgumentNullException.ThrowIfNull(points);
        var max = points.Count == 0 ? 0 : points.Max(p => p.Value);
        var scale = NiceMax(max);
        var plotWidth = Width - Left - 6;
        var plotHeight = Height - Top - Bottom;
        var slot = points.Count == 0 ? plotWidth : plotWidth / points.Count;
        var labelEvery = Math.Max(1, (int)Math.Ceiling(points.Count / 8.0));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg class=\"{Encode(cssClass)}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Encode(title)}\" preserveAspectRatio=\"none\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{Encode(title)}</title>");
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var y = Top + plotHeight * (1 - fraction);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" x2=\"{Width - 6}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{Encode(Short(scale * fraction))}</text>");
        }

        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var h = scale <= 0 ? 0 : plotHeight * p.Value / scale;
            var x = Left + i * slot + slot * 0.15;
            var y = Top + plotHeight - h;
            svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{slot * 0.7:0.##}\" height=\"{Math.Max(h, p.Value > 0 ? 1 : 0):0.##}\"><title>{Encode(p.Label)}: {Encode(p.ValueText)}</title></rect>");
            if (i % labelEvery == 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text class=\"axis\" x=\"{x + slot * 0.35:0.##}\" y=\"{Height - 6}\" text-anchor=\"middle\">{Encode(p.Label)}</text>");
            }
        }

        svg.Append("</svg>");
        return new HtmlString(svg.ToString());
    }

    /// <summary>A round axis maximum at or above <paramref name="max"/> (1, 2 or 5 times a power of ten).</summary>
    internal static double NiceMax(double max)
    {
        if (max <= 0)
        {
            return 1;
        }

        var power = Math.Pow(10, Math.Floor(Math.Log10(max)));
        foreach (var step in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (step * power >= max)
            {
                return step * power;
            }
        }

        return 10 * power;
    }

    private static string Short(double value) => value switch
    {
        >= 1_000_000 => (value / 1_000_000).ToString("0.#", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1_000).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        >= 1 or 0 => value.ToString("0.#", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
