using System.Globalization;
using System.Text;

namespace Meridian.Core.Validation;

/// <summary>
/// Rules every free-text field shares (descriptions, meta keys and values, HTTP match text), and the one way a value is
/// quoted inside a problem message.
/// </summary>
public static class ValidationText
{
    /// <summary>
    /// True for characters no field may hold: C0/C1 controls (a name <c>web\x01</c> prints exactly like <c>web</c>, so
    /// two rules look identical in a listing) and the bidirectional overrides and isolates of CVE-2021-42574 ("Trojan
    /// Source"), which reorder what a terminal shows without changing what is compared.
    /// </summary>
    public static bool IsForbidden(char c) => char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069';

    /// <summary>
    /// The problem with a free-text value, or null: any <see cref="IsForbidden"/> character is refused (code
    /// <see cref="ValidationCodes.ControlCharacter"/>). <paramref name="what"/> is how the message names the value
    /// (default: the field).
    /// </summary>
    public static ValidationProblem? Check(string field, string? value, string? what = null)
    {
        if (string.IsNullOrEmpty(value)) return null;
        for (var i = 0; i < value.Length; i++)
        {
            if (!IsForbidden(value[i])) continue;
            return new(field, ValidationCodes.ControlCharacter,
                $"{what ?? field} {Quote(value)} contains the control character {Quote(value[i].ToString())} at position {i}; " +
                "control and bidirectional-override characters are not allowed");
        }
        return null;
    }

    /// <summary>
    /// Go's <c>%q</c> for the texts in problem messages: quotes and backslashes escaped, and every forbidden character
    /// written as an escape (<c>\x01</c>, <c>\u202e</c>), so a message never carries a raw control character to a terminal.
    /// </summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case < '\u0080' when IsForbidden(c): sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                case var _ when IsForbidden(c): sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
