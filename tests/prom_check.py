#!/usr/bin/env python3
"""A strict reader of the Prometheus text exposition format 0.0.4, for the
tests (promtool is not installed here). Usage:

  prom_check.py FILE        check FILE; on success print every sample as
                            name{label="value",...} value, labels sorted by
                            name, one a line; on failure print why, exit 1
  prom_check.py --self-test check that the reader refuses what it must

What it checks, beyond the grammar (names, label pairs with only the \\\\, \\"
and \\n escapes, float values): HELP and TYPE at most once per family, TYPE
before the family's samples, a family's samples together, no series twice,
counters not negative, and for histograms: every series has le buckets in
increasing order, cumulative counts that never go down, a +Inf bucket equal
to _count, and a _sum.
"""
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'[+-]?(Inf|NaN|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


class Bad(Exception):
    pass


def value(text, where):
    if not FLOAT.match(text):
        raise Bad(f'{where}: bad value {text!r}')
    return float(text.replace('Inf', 'inf').replace('NaN', 'nan'))


def unescape(s, i, where, allowed):
    """Reads an escaped string from s[i:] up to an unescaped quote (labels)
    or the end (HELP); returns (text, index after it)."""
    out = []
    while i < len(s):
        c = s[i]
        if c == '\\':
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise Bad(f'{where}: bad escape {s[i:i + 2]!r}')
            out.append({'\\': '\\', 'n': '\n', '"': '"'}[s[i + 1]])
            i += 2
        elif c == '"' and '"' in allowed:
            return ''.join(out), i
        elif c == '\n':
            raise Bad(f'{where}: raw newline')
        else:
            out.append(c)
            i += 1
    if '"' in allowed:
        raise Bad(f'{where}: unterminated label value')
    return ''.join(out), i


def sample(line, where):
    m = NAME.match(line)
    if not m:
        raise Bad(f'{where}: bad metric name')
    name, i, labels = m.group(0), m.end(), {}
    if i < len(line) and line[i] == '{':
        i += 1
        while True:
            if line[i:i + 1] == '}':
                i += 1
                break
            lm = LABEL.match(line, i)
            if not lm or line[lm.end():lm.end() + 2] != '="':
                raise Bad(f'{where}: bad label at column {i}')
            key = lm.group(0)
            if key in labels:
                raise Bad(f'{where}: label {key} twice')
            val, i = unescape(line, lm.end() + 2, where, '\\n"')
            labels[key] = val
            i += 1
            if line[i:i + 1] == ',':
                i += 1
            elif line[i:i + 1] != '}':
                raise Bad(f'{where}: expected , or }} at column {i}')
    if line[i:i + 1] != ' ':
        raise Bad(f'{where}: expected one space before the value')
    rest = line[i + 1:].split(' ')
    if len(rest) not in (1, 2) or (len(rest) == 2 and not re.fullmatch(r'-?\d+', rest[1])):
        raise Bad(f'{where}: bad value or timestamp {line[i + 1:]!r}')
    return name, labels, value(rest[0], where)


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ('histogram', 'summary'):
            return base
    return name


def check_histogram(name, series, where):
    by = {}
    for (n, labels), v in series.items():
        rest = tuple(sorted((k, x) for k, x in labels if k != 'le'))
        by.setdefault(rest, {'buckets': [], 'sum': None, 'count': None})
        e = by[rest]
        if n == name + '_bucket':
            le = dict(labels).get('le')
            if le is None:
                raise Bad(f'{where}: {name}_bucket without le')
            e['buckets'].append((value(le, where), v))
        elif n == name + '_sum':
            e['sum'] = v
        elif n == name + '_count':
            e['count'] = v
        else:
            raise Bad(f'{where}: {n} in histogram {name}')
    for rest, e in by.items():
        b = e['buckets']
        if not b or b[-1][0] != math.inf:
            raise Bad(f'{name}{dict(rest)}: no +Inf bucket last')
        if any(b[k][0] >= b[k + 1][0] for k in range(len(b) - 1)):
            raise Bad(f'{name}{dict(rest)}: le not increasing')
        if any(b[k][1] > b[k + 1][1] for k in range(len(b) - 1)):
            raise Bad(f'{name}{dict(rest)}: buckets not cumulative')
        if e['count'] is None or e['sum'] is None:
            raise Bad(f'{name}{dict(rest)}: no _count or _sum')
        if e['count'] != b[-1][1]:
            raise Bad(f'{name}{dict(rest)}: _count {e["count"]} != +Inf bucket {b[-1][1]}')


def parse(text):
    if text and not text.endswith('\n'):
        raise Bad('the text does not end with a newline')
    types, helps, seen_fams, samples = {}, set(), [], {}
    cur = None
    for no, line in enumerate(text.split('\n')[:-1], 1):
        where = f'line {no}'
        if line == '':
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise Bad(f'{where}: bad name in {parts[1]}')
                if parts[1] == 'HELP':
                    if name in helps:
                        raise Bad(f'{where}: second HELP for {name}')
                    helps.add(name)
                    unescape(parts[3] if len(parts) > 3 else '', 0, where, '\\n')
                else:
                    if name in types or len(parts) != 4 or parts[3] not in TYPES:
                        raise Bad(f'{where}: bad or second TYPE for {name}')
                    if any(f == name for f, _ in samples):
                        raise Bad(f'{where}: TYPE for {name} after its samples')
                    types[name] = parts[3]
            continue
        name, labels, v = sample(line, where)
        fam = family_of(name, types)
        if fam != cur:
            if fam in seen_fams:
                raise Bad(f'{where}: samples of {fam} are not together')
            seen_fams.append(fam)
            cur = fam
        key = (name, tuple(sorted(labels.items())))
        if key in samples:
            raise Bad(f'{where}: series {name}{labels} twice')
        if types.get(fam) == 'counter' and v < 0:
            raise Bad(f'{where}: counter {name} is negative')
        if types.get(fam) == 'histogram' and name == fam:
            raise Bad(f'{where}: histogram {fam} has a bare sample')
        samples[key] = v
    for fam, t in types.items():
        if t == 'histogram':
            series = {(n, tuple(l)): v for (n, l), v in samples.items()
                      if family_of(n, types) == fam}
            check_histogram(fam, series, fam)
    return samples


def show(s):
    return s.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def fmt(v):
    return str(int(v)) if v == int(v) and abs(v) < 2**53 else repr(v)


def self_test():
    good = ('# HELP a Help with \\\\ and \\n.\n# TYPE a counter\n'
            'a{x="q\\"uote\\\\back\\nnl",y=""} 1\n'
            '# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2\n'
            'h_sum 3.5\nh_count 2\n')
    got = parse(good)
    assert got[('a', (('x', 'q"uote\\back\nnl'), ('y', '')))] == 1, got
    bad = ['a 1',                                     # no newline at the end
           'a{x="\\t"} 1\n',                          # unknown escape
           'a{x="1"}  1\n',                           # two spaces
           'a{x=1} 1\n',                              # unquoted
           'a 1x\n',                                  # bad value
           '# TYPE a counter\na -1\n',                # negative counter
           'a 1\nb 1\na{x="y"} 1\n',                  # family split
           'a 1\na 2\n',                              # series twice
           'a 1\n# TYPE a counter\n',                 # TYPE after samples
           '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 1\n',
           '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 0\nh_count 1\n',
           '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 2\n',
           '# HELP a x\n# HELP a y\n']
    for b in bad:
        try:
            parse(b)
        except Bad:
            continue
        raise SystemExit(f'accepted bad input: {b!r}')
    print('self-test ok')


def main():
    if sys.argv[1:] == ['--self-test']:
        self_test()
        return
    with open(sys.argv[1], encoding='utf-8') as f:
        text = f.read()
    try:
        samples = parse(text)
    except Bad as e:
        print(f'{sys.argv[1]}: {e}', file=sys.stderr)
        sys.exit(1)
    for (name, labels), v in samples.items():
        ls = ','.join(f'{k}="{show(x)}"' for k, x in labels)
        print(f'{name}{{{ls}}} {fmt(v)}' if ls else f'{name} {fmt(v)}')


if __name__ == '__main__':
    main()
