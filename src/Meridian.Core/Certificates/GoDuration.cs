using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Meridian.Core.Validation;

namespace Meridian.Core.Certificates;

/// <summary>
/// Go <c>time.Duration</c> text, the form Consul's CA configuration and its messages use (<c>72h0m0s</c>, <c>1.5s</c>).
/// <see cref="Format"/> matches <c>Duration.String()</c>; <see cref="TryParse(string?, out TimeSpan, out string)"/> matches
/// <c>time.ParseDuration</c>, including its error texts.
/// </summary>
/// <remarks>
/// NOTE: Go counts nanoseconds, <see cref="TimeSpan"/> 100 ns ticks. Parsing truncates toward zero to a whole tick
/// (<c>150ns</c> becomes 100 ns); formatting is exact.
/// </remarks>
public static class GoDuration
{
    private const long NanosPerTick = 100;
    private const ulong Microsecond = 1_000, Millisecond = 1_000_000, Second = 1_000_000_000;

    /// <summary>Formats as Go's <c>Duration.String()</c>: <c>72h0m0s</c>, <c>1m30s</c>, <c>1.5s</c>, <c>500ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan value)
    {
        // |ticks| * 100 exceeds long for TimeSpans beyond Go's ±292 years; UInt128 keeps the arithmetic exact.
        var neg = value.Ticks < 0;
        var u = (UInt128)(neg ? -(Int128)value.Ticks : value.Ticks) * NanosPerTick;
        if (u == 0) return "0s";

        var sb = new StringBuilder(24);
        if (u < Second)
        {
            // Sub-second values use the smallest unit that keeps an integer part: ns, µs (U+00B5) or ms.
            var (prec, unit) = u < Microsecond ? (0, "ns") : u < Millisecond ? (3, "\u00b5s") : (6, "ms");
            sb.Append(FormatFraction(u, prec, out var whole)).Insert(0, whole.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
        else
        {
            var secondsFraction = FormatFraction(u, 9, out var totalSeconds);
            var seconds = totalSeconds % 60;
            var totalMinutes = totalSeconds / 60;
            if (totalMinutes > 0)
            {
                var hours = totalMinutes / 60;
                if (hours > 0) sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
                sb.Append((totalMinutes % 60).ToString(CultureInfo.InvariantCulture)).Append('m');
            }
            sb.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append(secondsFraction).Append('s');
        }
        if (neg) sb.Insert(0, '-');
        return sb.ToString();
    }

    // Go's fmtFrac: the low `prec` digits as ".ddd" without trailing zeros (nothing when they are all zero).
    private static string FormatFraction(UInt128 v, int prec, out UInt128 whole)
    {
        var digits = new char[prec];
        var print = false;
        var w = prec;
        for (var i = 0; i < prec; i++)
        {
            var digit = (int)(v % 10);
            print = print || digit != 0;
            if (print) digits[--w] = (char)('0' + digit);
            v /= 10;
        }
        whole = v;
        return print ? "." + new string(digits, w, prec - w) : "";
    }

    /// <summary>
    /// Parses Go duration text (<c>72h</c>, <c>1h30m</c>, <c>1.5h</c>, <c>500ms</c>, <c>-2m</c>, <c>0</c>). On failure
    /// <paramref name="error"/> holds Go's message, e.g. <c>time: invalid duration "abc"</c>.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out TimeSpan value, out string error)
    {
        value = default;
        if (text is null)
        {
            error = "time: invalid duration \"\"";
            return false;
        }
        if (!TryParseNanoseconds(text, out var nanos, out error)) return false;
        value = TimeSpan.FromTicks(nanos / NanosPerTick);
        return true;
    }

    /// <summary>
    /// Parses Go duration text for the input field <paramref name="field"/>, throwing
    /// <see cref="DomainValidationException"/> whose problem names the field.
    /// </summary>
    public static TimeSpan Parse(string? text, string field)
    {
        if (Check(field, text, out var value) is { } problem) throw new DomainValidationException([problem]);
        return value;
    }

    /// <summary>Parses for <paramref name="field"/>; returns the problem (code <c>invalid_format</c>, Go's text) or null.</summary>
    public static ValidationProblem? Check(string field, string? text, out TimeSpan value)
        => TryParse(text, out value, out var error) ? null : new ValidationProblem(field, ValidationCodes.InvalidFormat, error);

    // A transcription of Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, accumulated in uint64 nanoseconds.
    private static bool TryParseNanoseconds(string orig, out long nanos, out string error)
    {
        nanos = 0;
        error = "";
        var invalid = $"time: invalid duration {Quote(orig)}";
        var s = orig.AsSpan();
        ulong d = 0;
        var neg = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            neg = s[0] == '-';
            s = s[1..];
        }
        if (s is "0") return true;
        if (s.IsEmpty)
        {
            error = invalid;
            return false;
        }
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                error = invalid;
                return false;
            }
            var pl = s.Length;
            if (!LeadingInt(ref s, out var v))
            {
                error = invalid;
                return false;
            }
            var pre = pl != s.Length;
            var post = false;
            ulong f = 0;
            double scale = 1;
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                pl = s.Length;
                (f, scale) = LeadingFraction(ref s);
                post = pl != s.Length;
            }
            if (!pre && !post)
            {
                error = invalid;
                return false;
            }
            var i = 0;
            while (i < s.Length && !(s[i] == '.' || char.IsAsciiDigit(s[i]))) i++;
            if (i == 0)
            {
                error = $"time: missing unit in duration {Quote(orig)}";
                return false;
            }
            var u = s[..i].ToString();
            s = s[i..];
            if (!TryUnit(u, out var unit))
            {
                error = $"time: unknown unit {Quote(u)} in duration {Quote(orig)}";
                return false;
            }
            if (v > (1UL << 63) / unit)
            {
                error = invalid;
                return false;
            }
            v *= unit;
            if (f > 0)
            {
                // As Go: float64 is nanosecond-accurate for fractions of an hour, the largest unit.
                v += (ulong)(f * (unit / scale));
                if (v > 1UL << 63)
                {
                    error = invalid;
                    return false;
                }
            }
            d += v;
            if (d > 1UL << 63)
            {
                error = invalid;
                return false;
            }
        }
        if (neg)
        {
            nanos = d == 1UL << 63 ? long.MinValue : -(long)d;
            return true;
        }
        if (d > long.MaxValue)
        {
            error = invalid;
            return false;
        }
        nanos = (long)d;
        return true;
    }

    private static bool LeadingInt(ref ReadOnlySpan<char> s, out ulong x)
    {
        x = 0;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (x > (1UL << 63) / 10) return false;                 // overflow
            x = x * 10 + (ulong)(s[i] - '0');
            if (x > 1UL << 63) return false;
        }
        s = s[i..];
        return true;
    }

    private static (ulong X, double Scale) LeadingFraction(ref ReadOnlySpan<char> s)
    {
        ulong x = 0;
        double scale = 1;
        var overflow = false;
        var i = 0;
        for (; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            if (overflow) continue;
            if (x > ((1UL << 63) - 1) / 10)
            {
                overflow = true;                                    // further digits are below a nanosecond
                continue;
            }
            var y = x * 10 + (ulong)(s[i] - '0');
            if (y > 1UL << 63)
            {
                overflow = true;
                continue;
            }
            x = y;
            scale *= 10;
        }
        s = s[i..];
        return (x, scale);
    }

    private static bool TryUnit(string u, out ulong unit)
    {
        unit = u switch
        {
            "ns" => 1,
            "us" or "\u00b5s" or "\u03bcs" => Microsecond,          // µ (micro sign) and μ (Greek mu), as Go
            "ms" => Millisecond,
            "s" => Second,
            "m" => 60 * Second,
            "h" => 3600 * Second,
            _ => 0,
        };
        return unit != 0;
    }

    private static string Quote(string s) => Validation.ValidationText.Quote(s);
}
