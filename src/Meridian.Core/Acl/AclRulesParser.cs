using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Meridian.Core.Validation;

namespace Meridian.Core.Acl;

/// <summary>One problem in a rules text, with the 1-based position it was found at.</summary>
public sealed record AclRulesError(int Line, int Column, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Message;
}

/// <summary>
/// Parser for the policy rules language of Consul (https://developer.hashicorp.com/consul/docs/security/acl/acl-rules;
/// <c>acl/policy.go</c>): the small HCL v1 subset those rules use, and the JSON form (HCL v1 reads JSON too). Both
/// syntaxes produce one tree that one interpreter validates, so they cannot drift apart. See docs/acl.md for the
/// supported subset and where it is stricter than Consul.
/// </summary>
/// <remarks>
/// Messages keep Consul's prefixes (<c>Failed to parse ACL rules:</c>, <c>Invalid service policy:</c>...), which
/// callers match up to the colon, and add the line, the column and the reason. A syntax error stops the parse;
/// every rule error after a clean parse is reported at once.
/// </remarks>
public static class AclRulesParser
{
    private static readonly string[] Unlabelled = ["acl", "operator", "mesh", "peering", "keyring"];

    private static readonly Dictionary<string, (AclResource Resource, bool Prefix)> Labelled = new(StringComparer.Ordinal)
    {
        ["service"] = (AclResource.Service, false), ["service_prefix"] = (AclResource.Service, true),
        ["node"] = (AclResource.Node, false), ["node_prefix"] = (AclResource.Node, true),
        ["agent"] = (AclResource.Agent, false), ["agent_prefix"] = (AclResource.Agent, true),
        ["key"] = (AclResource.Key, false), ["key_prefix"] = (AclResource.Key, true),
        ["session"] = (AclResource.Session, false), ["session_prefix"] = (AclResource.Session, true),
        ["event"] = (AclResource.Event, false), ["event_prefix"] = (AclResource.Event, true),
        ["query"] = (AclResource.Query, false), ["query_prefix"] = (AclResource.Query, true),
    };

    // Consul CE parses and then drops these (deprecated since 1.4); refusing them would break old policies.
    private static readonly string[] Dropped = ["identity", "identity_prefix"];

    private static readonly string[] Enterprise = ["namespace", "namespace_prefix", "partition", "partition_prefix", "sentinel"];

    /// <summary>Parses and validates <paramref name="rules"/>; an empty or blank text is an empty policy.</summary>
    public static AclRulesParseResult Parse(string? rules)
    {
        var text = rules ?? "";
        ObjectNode root;
        try
        {
            var reader = new Reader(new Lexer(text));
            root = reader.Peek.Kind == TokenKind.LBrace ? reader.ParseJsonDocument() : reader.ParseHclBody(open: null);
        }
        catch (SyntaxException e)
        {
            return new(null, [new(e.Line, e.Column, $"Failed to parse ACL rules: line {e.Line}, column {e.Column}: {e.Message}")]);
        }
        return Interpret(root);
    }

    /// <summary>
    /// Parses <paramref name="rules"/>, throwing <see cref="DomainValidationException"/> with one
    /// <c>Rules</c> problem per error.
    /// </summary>
    public static AclPolicyRules ParseOrThrow(string? rules, string field = "Rules")
    {
        var result = Parse(rules);
        DomainValidationException.ThrowIfAny(result.ToProblems(field));
        return result.Rules!;
    }

    // ---------------------------------------------------------------------------------------------
    // Interpretation: tree -> rules, every error collected
    // ---------------------------------------------------------------------------------------------

    private static AclRulesParseResult Interpret(ObjectNode root)
    {
        var errors = new List<AclRulesError>();
        var levels = new Dictionary<string, AclAccess>(StringComparer.Ordinal);
        var firstSet = new Dictionary<string, int>(StringComparer.Ordinal);
        var rules = ImmutableArray.CreateBuilder<AclResourceRule>();

        foreach (var entry in root.Entries)
        {
            var key = entry.Key;
            if (Array.IndexOf(Unlabelled, key) >= 0)
            {
                if (!NotDuplicate(errors, firstSet, key, entry)) continue;
                if (entry.Value is not StringNode s)
                {
                    errors.Add(Err(entry.Value, $"Invalid {key} policy", $"{key} must be a string (read, write or deny)"));
                    continue;
                }
                var level = AclWords.Parse(s.Value);
                if (level is null or AclAccess.List)
                    errors.Add(Err(s, $"Invalid {key} policy", $"unknown access level \"{s.Value}\"; expected read, write or deny"));
                else
                    levels[key] = level.Value;
            }
            else if (Labelled.TryGetValue(key, out var kind))
            {
                if (entry.Value is not ObjectNode labels)
                {
                    errors.Add(Err(entry.Value, "Failed to parse ACL rules", $"{key} must be a block with a name: {key} \"<name>\" {{ policy = \"read\" }}"));
                    continue;
                }
                foreach (var label in labels.Entries)
                {
                    switch (label.Value)
                    {
                        case ObjectNode body:
                            InterpretRule(errors, rules, key, kind.Resource, kind.Prefix, label, body);
                            break;
                        case ListNode list: // JSON: "service_prefix": {"": [{"policy": "read"}]}
                            foreach (var item in list.Items)
                            {
                                if (item is ObjectNode itemBody) InterpretRule(errors, rules, key, kind.Resource, kind.Prefix, label, itemBody);
                                else errors.Add(Err(item, $"Invalid {key} policy", $"{key} \"{label.Key}\": expected an object"));
                            }
                            break;
                        default:
                            errors.Add(Err(label.Value, $"Invalid {key} policy", $"{key} \"{label.Key}\": expected a block {{ policy = \"...\" }}"));
                            break;
                    }
                }
            }
            else if (Array.IndexOf(Dropped, key) >= 0)
            {
                // Parsed then dropped, as Consul does.
            }
            else if (Array.IndexOf(Enterprise, key) >= 0)
            {
                errors.Add(Err(entry, "Failed to parse ACL rules", $"\"{key}\" rules are Consul Enterprise only and not supported"));
            }
            else
            {
                errors.Add(Err(entry, "Failed to parse ACL rules", $"unknown rule \"{key}\""));
            }
        }

        if (errors.Count > 0) return new(null, [.. errors]);
        return new(new AclPolicyRules
        {
            Acl = levels.GetValueOrDefault("acl"),
            Operator = levels.GetValueOrDefault("operator"),
            Mesh = levels.GetValueOrDefault("mesh"),
            Peering = levels.GetValueOrDefault("peering"),
            Keyring = levels.GetValueOrDefault("keyring"),
            Rules = rules.ToImmutable(),
        }, []);
    }

    private static void InterpretRule(List<AclRulesError> errors, ImmutableArray<AclResourceRule>.Builder rules,
        string key, AclResource resource, bool prefix, Entry label, ObjectNode body)
    {
        var what = $"{key} \"{label.Key}\"";
        var before = errors.Count;
        var firstSet = new Dictionary<string, int>(StringComparer.Ordinal);
        StringNode? policy = null, intentions = null;
        foreach (var field in body.Entries)
        {
            var isIntentions = field.Key == "intentions" && resource == AclResource.Service;
            if (field.Key != "policy" && !isIntentions)
            {
                var hint = field.Key == "intentions" ? "; intentions is only accepted on service and service_prefix" : "";
                errors.Add(Err(field, $"Invalid {key} policy", $"{what}: unknown field \"{field.Key}\"{hint}"));
                continue;
            }
            if (!NotDuplicate(errors, firstSet, field.Key, field)) continue;
            if (field.Value is not StringNode s)
            {
                errors.Add(Err(field.Value, $"Invalid {key} policy", $"{what}: {field.Key} must be a string"));
                continue;
            }
            if (isIntentions) intentions = s; else policy = s;
        }

        var allowList = resource == AclResource.Key;
        var expected = allowList ? "read, write, list or deny" : "read, write or deny";
        AclAccess policyLevel = AclAccess.None, intentionsLevel = AclAccess.None;
        if (policy is null)
        {
            if (errors.Count == before)
                errors.Add(Err(body, $"Invalid {key} policy", $"{what}: policy is required ({expected})"));
        }
        else if (AclWords.Parse(policy.Value) is not { } p || (p == AclAccess.List && !allowList))
            errors.Add(Err(policy, $"Invalid {key} policy", $"{what}: unknown access level \"{policy.Value}\"; expected {expected}"));
        else
            policyLevel = p;

        if (intentions is not null)
        {
            if (AclWords.Parse(intentions.Value) is not { } i || i == AclAccess.List)
                errors.Add(Err(intentions, $"Invalid {key} intentions policy", $"{what}: unknown intentions level \"{intentions.Value}\"; expected read, write or deny"));
            else
                intentionsLevel = i;
        }

        if (errors.Count == before)
            rules.Add(new AclResourceRule(resource, label.Key, prefix, policyLevel, intentionsLevel, label.Line));
    }

    private static bool NotDuplicate(List<AclRulesError> errors, Dictionary<string, int> firstSet, string key, Entry entry)
    {
        if (firstSet.TryGetValue(key, out var first))
        {
            errors.Add(Err(entry, "Failed to parse ACL rules",
                $"The argument \"{key}\" (first set at line {first}) was already set. Each argument can only be defined once"));
            return false;
        }
        firstSet[key] = entry.Line;
        return true;
    }

    private static AclRulesError Err(INode at, string prefix, string reason) =>
        new(at.Line, at.Column, $"{prefix}: line {at.Line}, column {at.Column}: {reason}");

    // ---------------------------------------------------------------------------------------------
    // Tree
    // ---------------------------------------------------------------------------------------------

    private interface INode
    {
        int Line { get; }
        int Column { get; }
    }

    private sealed record StringNode(string Value, int Line, int Column) : INode;
    private sealed record ScalarNode(string Text, int Line, int Column) : INode;
    private sealed record ListNode(List<INode> Items, int Line, int Column) : INode;
    private sealed record ObjectNode(List<Entry> Entries, int Line, int Column) : INode;
    private sealed record Entry(string Key, INode Value, int Line, int Column) : INode;

    // ---------------------------------------------------------------------------------------------
    // Parsers (HCL subset and JSON) over one lexer
    // ---------------------------------------------------------------------------------------------

    private sealed class Reader(Lexer lexer)
    {
        private Token _peek = lexer.Next();

        public Token Peek => _peek;

        private Token Take()
        {
            var t = _peek;
            _peek = lexer.Next();
            return t;
        }

        private Token Expect(TokenKind kind, string what)
        {
            if (_peek.Kind != kind) throw Unexpected(_peek, what);
            return Take();
        }

        private static SyntaxException Unexpected(Token t, string expected) =>
            new(t.Line, t.Column, $"expected {expected}, found {Describe(t)}");

        private static string Describe(Token t) => t.Kind switch
        {
            TokenKind.Eof => "end of input",
            TokenKind.String => $"\"{t.Text}\"",
            _ => $"'{t.Text}'",
        };

        // body := { key {label} ( ("=" | ":") value | "{" body "}" ) [","] }
        public ObjectNode ParseHclBody(Token? open)
        {
            var nested = open is not null;
            var start = open ?? _peek;
            var entries = new List<Entry>();
            while (true)
            {
                if (_peek.Kind == TokenKind.RBrace && nested) { Take(); break; }
                if (_peek.Kind == TokenKind.Eof)
                {
                    if (nested) throw new SyntaxException(_peek.Line, _peek.Column, $"unclosed '{{' opened at line {start.Line}: expected '}}'");
                    break;
                }
                if (_peek.Kind is not (TokenKind.Ident or TokenKind.String)) throw Unexpected(_peek, "a rule name");
                var key = Take();
                var labels = new List<Token>();
                while (_peek.Kind is TokenKind.String or TokenKind.Ident) labels.Add(Take());

                INode value;
                if (_peek.Kind == TokenKind.LBrace)
                {
                    value = ParseHclBody(Take());
                }
                else if (_peek.Kind is TokenKind.Equals or TokenKind.Colon && labels.Count == 0)
                {
                    Take();
                    value = ParseHclValue();
                }
                else
                {
                    throw Unexpected(_peek, labels.Count == 0 ? $"'=' or '{{' after \"{key.Text}\"" : $"'{{' after {key.Text} \"{labels[^1].Text}\"");
                }

                // service "web" { ... } is service = { "web" = { ... } }.
                for (var i = labels.Count - 1; i >= 0; i--)
                    value = new ObjectNode([new Entry(labels[i].Text, value, labels[i].Line, labels[i].Column)], labels[i].Line, labels[i].Column);
                entries.Add(new Entry(key.Text, value, key.Line, key.Column));
                if (_peek.Kind == TokenKind.Comma) Take();
            }
            return new ObjectNode(entries, start.Line, start.Column);
        }

        private INode ParseHclValue()
        {
            var t = _peek;
            switch (t.Kind)
            {
                case TokenKind.String: Take(); return new StringNode(t.Text, t.Line, t.Column);
                case TokenKind.Number: Take(); return new ScalarNode(t.Text, t.Line, t.Column);
                case TokenKind.Ident when t.Text is "true" or "false": Take(); return new ScalarNode(t.Text, t.Line, t.Column);
                case TokenKind.LBrace: return ParseHclBody(Take());
                case TokenKind.LBracket:
                    Take();
                    var items = new List<INode>();
                    while (_peek.Kind != TokenKind.RBracket)
                    {
                        items.Add(ParseHclValue());
                        if (_peek.Kind == TokenKind.Comma) Take();
                        else if (_peek.Kind != TokenKind.RBracket) throw Unexpected(_peek, "',' or ']'");
                    }
                    Take();
                    return new ListNode(items, t.Line, t.Column);
                case TokenKind.Ident:
                    throw new SyntaxException(t.Line, t.Column, $"expected a quoted string, found '{t.Text}' (write \"{t.Text}\")");
                default:
                    throw Unexpected(t, "a value");
            }
        }

        public ObjectNode ParseJsonDocument()
        {
            var root = ParseJsonValue();
            if (_peek.Kind != TokenKind.Eof) throw Unexpected(_peek, "end of input after the JSON object");
            return (ObjectNode)root;
        }

        private INode ParseJsonValue()
        {
            var t = _peek;
            switch (t.Kind)
            {
                case TokenKind.String: Take(); return new StringNode(t.Text, t.Line, t.Column);
                case TokenKind.Number: Take(); return new ScalarNode(t.Text, t.Line, t.Column);
                case TokenKind.Ident when t.Text is "true" or "false" or "null": Take(); return new ScalarNode(t.Text, t.Line, t.Column);
                case TokenKind.LBrace:
                {
                    Take();
                    var entries = new List<Entry>();
                    if (_peek.Kind != TokenKind.RBrace)
                    {
                        while (true)
                        {
                            var key = Expect(TokenKind.String, "a quoted key");
                            Expect(TokenKind.Colon, "':'");
                            entries.Add(new Entry(key.Text, ParseJsonValue(), key.Line, key.Column));
                            if (_peek.Kind == TokenKind.Comma) { Take(); continue; }
                            break;
                        }
                    }
                    Expect(TokenKind.RBrace, "',' or '}'");
                    return new ObjectNode(entries, t.Line, t.Column);
                }
                case TokenKind.LBracket:
                {
                    Take();
                    var items = new List<INode>();
                    if (_peek.Kind != TokenKind.RBracket)
                    {
                        while (true)
                        {
                            items.Add(ParseJsonValue());
                            if (_peek.Kind == TokenKind.Comma) { Take(); continue; }
                            break;
                        }
                    }
                    Expect(TokenKind.RBracket, "',' or ']'");
                    return new ListNode(items, t.Line, t.Column);
                }
                default:
                    throw Unexpected(t, "a JSON value");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Lexer: identifiers, strings, numbers, punctuation; comments #, //, /* */
    // ---------------------------------------------------------------------------------------------

    private enum TokenKind { Ident, String, Number, LBrace, RBrace, LBracket, RBracket, Equals, Colon, Comma, Eof }

    private readonly record struct Token(TokenKind Kind, string Text, int Line, int Column);

    private sealed class SyntaxException(int line, int column, string message) : Exception(message)
    {
        public int Line { get; } = line;
        public int Column { get; } = column;
    }

    private sealed class Lexer(string text)
    {
        private int _pos, _line = 1, _col = 1;

        private char Cur => _pos < text.Length ? text[_pos] : '\0';
        private char At(int offset) => _pos + offset < text.Length ? text[_pos + offset] : '\0';

        private void Advance()
        {
            if (text[_pos] == '\n') { _line++; _col = 1; } else _col++;
            _pos++;
        }

        public Token Next()
        {
            SkipTrivia();
            int line = _line, col = _col;
            if (_pos >= text.Length) return new(TokenKind.Eof, "", line, col);
            var c = Cur;
            TokenKind? punct = c switch
            {
                '{' => TokenKind.LBrace, '}' => TokenKind.RBrace, '[' => TokenKind.LBracket, ']' => TokenKind.RBracket,
                '=' => TokenKind.Equals, ':' => TokenKind.Colon, ',' => TokenKind.Comma, _ => null,
            };
            if (punct is { } k) { Advance(); return new(k, c.ToString(), line, col); }
            if (c == '"') return ReadString(line, col);
            if (c == '<' && At(1) == '<') throw new SyntaxException(line, col, "heredoc strings are not supported in ACL rules; use a quoted string");
            if (char.IsAsciiDigit(c) || (c == '-' && char.IsAsciiDigit(At(1))))
            {
                var start = _pos;
                Advance();
                while (char.IsAsciiDigit(Cur) || Cur is '.' or 'e' or 'E' or '+' or '-') Advance();
                return new(TokenKind.Number, text[start.._pos], line, col);
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = _pos;
                while (char.IsAsciiLetterOrDigit(Cur) || Cur is '_' or '-' or '.') Advance();
                return new(TokenKind.Ident, text[start.._pos], line, col);
            }
            throw new SyntaxException(line, col, $"unexpected character '{c}'");
        }

        private void SkipTrivia()
        {
            while (_pos < text.Length)
            {
                var c = Cur;
                if (char.IsWhiteSpace(c)) Advance();
                else if (c == '#' || (c == '/' && At(1) == '/'))
                {
                    while (_pos < text.Length && Cur != '\n') Advance();
                }
                else if (c == '/' && At(1) == '*')
                {
                    int line = _line, col = _col;
                    Advance(); Advance();
                    while (_pos < text.Length && !(Cur == '*' && At(1) == '/')) Advance();
                    if (_pos >= text.Length) throw new SyntaxException(line, col, "comment not terminated: '/*' without '*/'");
                    Advance(); Advance();
                }
                else return;
            }
        }

        private Token ReadString(int line, int col)
        {
            Advance(); // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= text.Length || Cur == '\n') throw new SyntaxException(line, col, "string not terminated: missing closing '\"'");
                var c = Cur;
                if (c == '"') { Advance(); break; }
                if (c != '\\') { sb.Append(c); Advance(); continue; }
                int escLine = _line, escCol = _col;
                Advance();
                switch (Cur)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'n': sb.Append('\n'); break;
                    case 't': sb.Append('\t'); break;
                    case 'r': sb.Append('\r'); break;
                    case 'u' when _pos + 4 < text.Length && int.TryParse(text.AsSpan(_pos + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                        sb.Append((char)code);
                        for (var i = 0; i < 4; i++) Advance();
                        break;
                    default: throw new SyntaxException(escLine, escCol, "invalid escape sequence in string");
                }
                Advance();
            }
            return new(TokenKind.String, sb.ToString(), line, col);
        }
    }
}

/// <summary>The outcome of <see cref="AclRulesParser.Parse"/>: the rules, or every error (never both).</summary>
public sealed record AclRulesParseResult(AclPolicyRules? Rules, ImmutableArray<AclRulesError> Errors)
{
    public bool IsValid => Errors.IsEmpty;

    /// <summary>The errors as validation problems on <paramref name="field"/> (code <c>invalid_rules</c>).</summary>
    public IReadOnlyList<ValidationProblem> ToProblems(string field = "Rules") =>
        [.. Errors.Select(e => new ValidationProblem(field, ValidationCodes.InvalidRules, e.Message))];
}
