/*
 * YAML scalars for the writer, chosen so that libfyaml reads back exactly the
 * bytes written and a person reads them without surprise:
 *
 *   plain          only for conservative text: starts with a letter, '_' or a
 *                  non-ASCII character, holds no YAML indicator that could
 *                  change its meaning (": ", " #", quotes, brackets ...), does
 *                  not end in a space or ':', and is not a word YAML 1.1 tools
 *                  read as a boolean or null (yes, no, on, off, null ...).
 *                  Anything starting with a digit is quoted, so "123" and
 *                  "1e3" stay text for every reader.
 *   literal block  multi-line text (| keeps one final newline, |- none, |+
 *                  several) unless it has a leading blank, a whitespace-only
 *                  line or control characters, which a block cannot carry;
 *   folded block   the same, when a line is long and folding is exact (>).
 *   double-quoted  everything else, escaping \" \\ \n \t \r and control
 *                  characters; U+0085, U+2028, U+2029 and U+FEFF are escaped
 *                  too, since YAML 1.1 readers take them as line breaks.
 */
#include "core/files/internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* The length of a multi-byte character that needs escaping at p, 0 if none;
 * *esc is its YAML escape. */
static size_t special_char(const unsigned char *p, const char **esc)
{
    if (p[0] == 0xC2 && p[1] == 0x85)
        return *esc = "\\N", 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
        return *esc = p[2] == 0xA8 ? "\\L" : "\\P", 3;
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return *esc = "\\uFEFF", 3;
    return 0;
}

static bool yaml_keyword(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off",
                                        "y",    "n",     "null", NULL};
    for (size_t i = 0; words[i]; i++)
        if (strcasecmp(s, words[i]) == 0)
            return true;
    return false;
}

static bool plain_ok(const char *s, bool flow)
{
    const unsigned char *p = (const unsigned char *)s;
    const char *esc;
    if (!(isalpha(*p) || *p == '_' || *p >= 0x80))
        return false;
    size_t n = strlen(s);
    if (s[n - 1] == ' ' || s[n - 1] == ':' || strstr(s, ": ") || strstr(s, " #") ||
        yaml_keyword(s))
        return false;
    /* In a flow collection ',' ends the item and ':' '*' '?' can be indicators. */
    const char *extra = flow ? " _./()+@'=-" : " _.,/()+@:'*=?&%!$;~-";
    for (; *p; p++) {
        if (*p >= 0x80 ? special_char(p, &esc) != 0 : !isalnum(*p) && !strchr(extra, *p))
            return false;
    }
    return true;
}

void fm__emit_quoted(fm_buf *b, const char *s)
{
    fm_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc;
        size_t n = special_char(p, &esc);
        if (n) {
            fm_buf_adds(b, esc);
            p += n - 1;
        } else if (*p == '"' || *p == '\\') {
            fm_buf_addc(b, '\\');
            fm_buf_addc(b, (char)*p);
        } else if (*p == '\n' || *p == '\t' || *p == '\r') {
            fm_buf_adds(b, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\r");
        } else if (*p < 0x20 || *p == 0x7F) {
            fm_buf_addf(b, "\\x%02x", *p);
        } else {
            fm_buf_addc(b, (char)*p);
        }
    }
    fm_buf_addc(b, '"');
}

/* Whether a literal block scalar would give back exactly `s`. */
static bool literal_ok(const char *s)
{
    if (!strchr(s, '\n') || *s == ' ' || *s == '\t' || *s == '\n')
        return false;
    bool blank = true; /* the current line holds only spaces and tabs so far */
    size_t len = 0;    /* ... and this many bytes */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc;
        if (*p == '\n') {
            if (len && blank)
                return false; /* a whitespace-only line would lose its blanks */
            blank = true, len = 0;
            continue;
        }
        if ((*p < 0x20 && *p != '\t') || *p == 0x7F || special_char(p, &esc))
            return false;
        len++;
        blank = blank && (*p == ' ' || *p == '\t');
    }
    return !(len && blank);
}

static void emit_literal(fm_buf *b, const char *s, int indent)
{
    size_t n = strlen(s), trail = 0;
    while (trail < n && s[n - 1 - trail] == '\n')
        trail++;
    fm_buf_adds(b, trail == 0 ? "|-\n" : trail == 1 ? "|\n" : "|+\n");
    const char *p = s, *end = s + n - trail;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p) {
            fm_buf_addf(b, "%*s", indent + 2, "");
            fm_buf_add(b, p, (size_t)(e - p));
        }
        fm_buf_addc(b, '\n');
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 1; i < trail; i++)
        fm_buf_addc(b, '\n');
}

/* ---- folded blocks --------------------------------------------------------------
 * Multi-line text with a line longer than WRAP is written folded (>), wrapped
 * at single spaces, so an exported mission reads like the prose it is. In a
 * folded block one line break reads as a space and k empty lines as k
 * newlines; lines that start or end with a blank are not folded by YAML, so
 * such text stays literal. */
#define WRAP 76

static bool folded_ok(const char *s)
{
    if (!literal_ok(s))
        return false;
    bool long_line = false;
    for (const char *line = s; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len && (line[0] == ' ' || line[0] == '\t' || line[len - 1] == ' ' ||
                    line[len - 1] == '\t'))
            return false;
        long_line = long_line || len > WRAP;
        line += len + (nl ? 1 : 0);
    }
    return long_line;
}

/* A space at p[i] where the text may break: single, inside the line. */
static bool break_at(const char *p, size_t len, size_t i)
{
    return i > 0 && i + 1 < len && p[i] == ' ' && p[i - 1] != ' ' && p[i + 1] != ' ';
}

/* One line of text as source lines of at most WRAP characters where a
 * break point allows. */
static void emit_wrapped(fm_buf *b, const char *p, size_t len, int indent)
{
    while (len > WRAP) {
        size_t i = WRAP;
        while (i > 0 && !break_at(p, len, i))
            i--;
        if (i == 0)
            for (i = WRAP + 1; i < len && !break_at(p, len, i); i++)
                ;
        if (i >= len)
            break;
        fm_buf_addf(b, "%*s%.*s\n", indent, "", (int)i, p);
        p += i + 1, len -= i + 1;
    }
    fm_buf_addf(b, "%*s%.*s\n", indent, "", (int)len, p);
}

static void emit_folded(fm_buf *b, const char *s, int indent)
{
    size_t n = strlen(s), trail = 0;
    while (trail < n && s[n - 1 - trail] == '\n')
        trail++;
    fm_buf_adds(b, trail == 0 ? ">-\n" : trail == 1 ? ">\n" : ">+\n");
    const char *p = s, *end = s + n - trail;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        emit_wrapped(b, p, (size_t)((nl ? nl : end) - p), indent + 2);
        for (p = nl ? nl : end; p < end && *p == '\n'; p++)
            fm_buf_addc(b, '\n'); /* k newlines in the text: k empty lines */
    }
    for (size_t i = 1; i < trail; i++)
        fm_buf_addc(b, '\n');
}

void fm__emit_text(fm_buf *b, const char *s, int indent)
{
    if (folded_ok(s)) {
        emit_folded(b, s, indent);
        return;
    }
    if (literal_ok(s)) {
        emit_literal(b, s, indent);
        return;
    }
    if (plain_ok(s, false))
        fm_buf_adds(b, s);
    else
        fm__emit_quoted(b, s);
    fm_buf_addc(b, '\n');
}

void fm__emit_flow_text(fm_buf *b, const char *s)
{
    if (plain_ok(s, true))
        fm_buf_adds(b, s);
    else
        fm__emit_quoted(b, s);
}
