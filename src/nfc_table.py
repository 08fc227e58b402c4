#!/usr/bin/env python3
"""Generates src/nfc_table.h, the Unicode data of src/nfc.c, and
tests/unit/nfc_cases.h, the test vectors of tests/unit/check_nfc.c, from
Python's unicodedata module (standard library only).

    python3 src/nfc_table.py > src/nfc_table.h
    python3 src/nfc_table.py --tests > tests/unit/nfc_cases.h

Both outputs are committed; the build does not run Python.  Regenerate
both with the same Python, so that the tables and the vectors come from
the same Unicode version (check_nfc.c compares the two version strings).
Debian 12's python3.11 has Unicode 14.0.0.

The tables hold what canonical (not compatibility) normalisation needs,
UAX #15:
  - a two-stage lookup from a code point to its property class, a
    (canonical combining class, flags) pair;
  - the one-level canonical decomposition of every code point that has one,
    Hangul syllables aside (nfc.c decomposes them by arithmetic), sorted by
    code point; nfc.c applies it recursively;
  - the primary composites (decompositions of two code points that are not
    composition exclusions), as indices into the decompositions, sorted by
    the pair.
"""

import random
import sys
import unicodedata

MAX_CP = 0x10FFFF
HANGUL_S = range(0xAC00, 0xD7A4)
HANGUL_V = range(0x1161, 0x1176)
HANGUL_T = range(0x11A8, 0x11C3)	# 0x11A7 is TBase, not a T jamo

# Flag bits; nfc.c has the same values (NFC_F_*).
F_DECOMP = 1	# has a canonical decomposition in nfc_decomp
F_BACK = 2	# may compose with a preceding starter

# Field widths of a packed decomposition: code point, first, second.
CP_BITS = 21


def canonical_decompositions():
    """{cp: [first] or [first, second]} for every canonical mapping."""
    dec = {}
    for cp in range(MAX_CP + 1):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith('<'):
            dec[cp] = [int(x, 16) for x in d.split()]
    # Python reports no mapping for Hangul syllables; nfc.c computes them.
    assert not any(cp in dec for cp in HANGUL_S)
    assert all(1 <= len(v) <= 2 for v in dec.values())
    return dec


def primary_composites(dec):
    """The pairs that NFC recomposes: a two-code-point mapping whose
    character survives NFC on its own (the others are the composition
    exclusions, singletons and non-starter decompositions)."""
    return sorted(cp for cp, v in dec.items() if len(v) == 2 and
                  unicodedata.normalize('NFC', chr(cp)) == chr(cp))


def properties(dec, comp):
    back = {dec[cp][1] for cp in comp}
    back.update(HANGUL_V)
    back.update(HANGUL_T)
    props = []
    for cp in range(MAX_CP + 1):
        flags = (F_DECOMP if cp in dec else 0) | (F_BACK if cp in back else 0)
        props.append((unicodedata.combining(chr(cp)), flags))
    return props


def two_stage(props):
    """Splits props into classes, stage-1 block indices and stage-2 blocks,
    with the block size that makes the two stages smallest.  Code points
    at or past the returned limit all have class 0 (ccc 0, no flags)."""
    classes = sorted(set(props))
    assert classes[0] == (0, 0) and len(classes) <= 256
    cls = [classes.index(p) for p in props]
    last = max(cp for cp in range(MAX_CP + 1) if cls[cp] != 0)
    best = None
    for shift in range(4, 10):
        bsize = 1 << shift
        limit = (last // bsize + 1) * bsize
        blocks, index = [], []
        seen = {}
        for b in range(0, limit, bsize):
            blk = tuple(cls[b:b + bsize])
            if blk not in seen:
                seen[blk] = len(blocks)
                blocks.append(blk)
            index.append(seen[blk])
        if len(blocks) > 256:
            continue
        size = len(index) + len(blocks) * bsize
        if best is None or size < best[0]:
            best = (size, shift, limit, index, blocks)
    _, shift, limit, index, blocks = best
    return classes, shift, limit, index, blocks


def check_bounds(dec, comp):
    """What nfc.h promises: NFC never takes more than 3 bytes of UTF-8 per
    input byte (a character's NFD is at most 3 times its length, and a
    composition never gives more bytes than the pair it replaces)."""
    for cp in dec:
        nfd = unicodedata.normalize('NFD', chr(cp)).encode()
        assert len(nfd) <= 3 * len(chr(cp).encode())
        assert len(nfd.decode()) <= 4
    for cp in comp:
        a, b = dec[cp]
        assert len(chr(cp).encode()) <= \
            len(chr(a).encode()) + len(chr(b).encode())
    # nfc.c recurses on decompositions: at most three levels deep.
    def depth(cp):
        return 1 + max(map(depth, dec[cp])) if cp in dec else 0
    assert max(map(depth, dec)) <= 3
    # nfc.c composes onto starters only, and ASCII never composes.
    for cp in comp:
        a, b = dec[cp]
        assert unicodedata.combining(chr(a)) == 0 and b >= 0x80
    # No canonical mapping yields a byte upname.c refuses or a dot.
    for cp in dec:
        out = unicodedata.normalize('NFC', chr(cp))
        assert not any(ord(c) < 0x20 or c in './\x7f' for c in out)


def emit_rows(items, per_line, fmt, out):
    for i in range(0, len(items), per_line):
        row = items[i:i + per_line]
        out.append('\t' + ' '.join(fmt(x) + ',' for x in row))


def table_header():
    dec = canonical_decompositions()
    comp = primary_composites(dec)
    check_bounds(dec, comp)
    props = properties(dec, comp)
    classes, shift, limit, index, blocks = two_stage(props)
    keys = sorted(dec)
    pos = {cp: i for i, cp in enumerate(keys)}
    comp_idx = sorted((pos[cp] for cp in comp), key=lambda i: dec[keys[i]])
    assert len(keys) < 0x10000

    size = (len(classes) * 2 + len(index) + len(blocks) * (1 << shift) +
            len(keys) * 8 + len(comp_idx) * 2)
    out = []
    out.append('/*')
    out.append(' * nfc_table.h - Unicode data for nfc.c.')
    out.append(' *')
    out.append(' * Generated by src/nfc_table.py from the unicodedata module '
               'of Python %s,' % sys.version.split()[0])
    out.append(' * Unicode %s.  Do not edit: change the script and run'
               % unicodedata.unidata_version)
    out.append(' * "python3 src/nfc_table.py > src/nfc_table.h".')
    out.append(' *')
    out.append(' * %d canonical decompositions, %d primary composites, '
               '%d property' % (len(keys), len(comp_idx), len(classes)))
    out.append(' * classes in blocks of %d code points; %d bytes of tables.'
               % (1 << shift, size))
    out.append(' */')
    out.append('#ifndef LANHTTPD_NFC_TABLE_H')
    out.append('#define LANHTTPD_NFC_TABLE_H')
    out.append('')
    out.append('#include <stdint.h>')
    out.append('')
    out.append('#define NFC_UNICODE_VERSION\t"%s"'
               % unicodedata.unidata_version)
    out.append('')
    out.append('#define NFC_F_DECOMP\t%d\t/* has an entry in nfc_decomp */'
               % F_DECOMP)
    out.append('#define NFC_F_BACK\t%d\t/* may compose with a preceding '
               'starter */' % F_BACK)
    out.append('')
    out.append('/* Code points from NFC_PROP_LIMIT on are all of class 0. */')
    out.append('#define NFC_PROP_SHIFT\t%d' % shift)
    out.append('#define NFC_PROP_LIMIT\t0x%X' % limit)
    out.append('')
    out.append('/* A property class: canonical combining class, NFC_F_* '
               'flags. */')
    out.append('static const struct {')
    out.append('\tuint8_t\t ccc;')
    out.append('\tuint8_t\t flags;')
    out.append('} nfc_class[%d] = {' % len(classes))
    emit_rows(classes, 6, lambda c: '{ %3d, %d }' % c, out)
    out.append('};')
    out.append('')
    out.append('/* Stage 1: the block of code points cp >> NFC_PROP_SHIFT. */')
    out.append('static const uint8_t nfc_stage1[%d] = {' % len(index))
    emit_rows(index, 12, lambda v: '%3d' % v, out)
    out.append('};')
    out.append('')
    out.append('/* Stage 2: the class of each code point of a block. */')
    out.append('static const uint8_t nfc_stage2[%d][%d] = {'
               % (len(blocks), 1 << shift))
    for blk in blocks:
        out.append('\t{')
        emit_rows(list(blk), 16, lambda v: '%d' % v, out)
        out.append('\t},')
    out.append('};')
    out.append('')
    out.append('/*')
    out.append(' * A one-level canonical decomposition: the code point, then '
               'the one or')
    out.append(' * two it maps to (a second of 0 for one), %d bits each.'
               % CP_BITS)
    out.append(' */')
    out.append('#define NFC_CP_BITS\t%d' % CP_BITS)
    out.append('#define NFC_D(cp, first, second) \\')
    out.append('\t((uint64_t)(cp) << (2 * NFC_CP_BITS) | \\')
    out.append('\t(uint64_t)(first) << NFC_CP_BITS | (uint64_t)(second))')
    out.append('')
    out.append('/* Sorted by code point. */')
    out.append('static const uint64_t nfc_decomp[%d] = {' % len(keys))

    def fmt_d(cp):
        d = dec[cp] + [0]
        return 'NFC_D(0x%04X, 0x%04X, 0x%04X)' % (cp, d[0], d[1])
    emit_rows(keys, 2, fmt_d, out)
    out.append('};')
    out.append('')
    out.append('/* The primary composites: nfc_decomp indices sorted by the '
               'pair. */')
    out.append('static const uint16_t nfc_comp[%d] = {' % len(comp_idx))
    emit_rows(comp_idx, 10, lambda v: '%4d' % v, out)
    out.append('};')
    out.append('')
    out.append('#endif /* LANHTTPD_NFC_TABLE_H */')
    return '\n'.join(out) + '\n'


#
# Test vectors
#

def c_string(b):
    """A C literal for the bytes b: octal escapes are at most three digits
    long, so unlike hex ones they never swallow the character after."""
    s = []
    for x in b:
        if x in (0x22, 0x5C):
            s.append('\\' + chr(x))
        elif 0x20 <= x < 0x7F and x != 0x3F:	# '?' would risk trigraphs
            s.append(chr(x))
        else:
            s.append('\\%03o' % x)
    return '"' + ''.join(s) + '"'


def pools():
    """Code points the random strings are made of, by kind."""
    nonstarters = [cp for cp in range(MAX_CP + 1)
                   if unicodedata.combining(chr(cp))]
    r = lambda a, b: list(range(a, b + 1))
    return {
        'ascii': r(0x20, 0x7E) + [0x00, 0x09],
        'latin': [ord(c) for c in 'aeiouyAEIOUYcnszgkCNSZ'] + r(0xC0, 0x17F),
        'marks': r(0x300, 0x36F) + r(0x1DC0, 0x1DFF) + r(0x20D0, 0x20F0),
        'nonstarter': nonstarters,
        'greek': r(0x391, 0x3C9) + r(0x1F00, 0x1FFE) +
        [0x313, 0x314, 0x301, 0x300, 0x342, 0x345, 0x308, 0x344],
        'jamo': r(0x1100, 0x1112) + r(0x1161, 0x1175) + r(0x11A7, 0x11C2) +
        [0x1113, 0x1176, 0x11C3],
        'hangul': list(HANGUL_S),
        'indic': r(0x900, 0x97F) + r(0x9BE, 0x9D7) + r(0xB3E, 0xB57) +
        [0xB92, 0xBD7, 0xBC6, 0xBBE, 0xCBF, 0xCD5, 0xCC6, 0xCC2, 0xD46,
         0xD3E, 0xD57, 0xDD9, 0xDCF, 0xDCA, 0xDDF, 0x1025, 0x102E] +
        r(0xF71, 0xF81) + r(0xF40, 0xF69),
        'kana': r(0x3041, 0x3096) + r(0x30A1, 0x30FA) + [0x3099, 0x309A],
        'emoji': r(0x1F600, 0x1F64F) + r(0x1F3FB, 0x1F3FF) +
        r(0x1F1E6, 0x1F1FF) + [0x200D, 0xFE0F, 0x2764, 0x1F468, 0x1F469],
        'compat': r(0xF900, 0xFAD9) + r(0x2F800, 0x2FA1D) +
        r(0x1D15E, 0x1D172) + [0x212B, 0x2126, 0x212A, 0x37E, 0x387,
                               0x1FEF, 0x340, 0x341, 0x343, 0x2ADC],
        'astral': r(0x11099, 0x110BA) + r(0x11131, 0x11134) + [0x11127],
    }


def random_strings(n):
    rng = random.Random(20240614)
    p = pools()
    kinds = sorted(p)
    out = []
    while len(out) < n:
        # A theme of one or two kinds, with marks of every class mixed in.
        theme = rng.sample(kinds, rng.choice((1, 2)))
        k = rng.randint(1, 16)
        s = []
        for _ in range(k):
            roll = rng.random()
            if roll < 0.25:
                s.append(rng.choice(p['nonstarter']))
            elif roll < 0.35:
                s.append(rng.choice(p['marks']))
            else:
                s.append(rng.choice(p[rng.choice(theme)]))
        text = ''.join(map(chr, s))
        # Some go in already decomposed, some already composed.
        form = rng.random()
        if form < 0.2:
            text = unicodedata.normalize('NFD', text)
        elif form < 0.3:
            text = unicodedata.normalize('NFC', text)
        out.append(text)
    return out


def case_rows(texts):
    rows = []
    for t in texts:
        nfc = unicodedata.normalize('NFC', t)
        i, o = t.encode(), nfc.encode()
        rows.append('\t{ %s, %d, %s, %d, %s },' % (
            c_string(i), len(i), c_string(o), len(o),
            'true' if unicodedata.is_normalized('NFC', t) else 'false'))
    return rows


def tests_header():
    dec = canonical_decompositions()
    scalars = [cp for cp in range(MAX_CP + 1) if not 0xD800 <= cp <= 0xDFFF]
    changed = [cp for cp in scalars
               if unicodedata.normalize('NFC', chr(cp)) != chr(cp)]
    texts = [unicodedata.normalize('NFD', chr(cp)) for cp in sorted(dec)]
    # Every LV syllable, and a stride of the LVT ones.
    for s in HANGUL_S:
        if (s - 0xAC00) % 28 == 0 or (s - 0xAC00) % 17 == 5:
            texts.append(unicodedata.normalize('NFD', chr(s)))
    texts += random_strings(1500)

    out = []
    out.append('/*')
    out.append(' * nfc_cases.h - NFC test vectors for check_nfc.c.')
    out.append(' *')
    out.append(' * Generated by "python3 src/nfc_table.py --tests" from the '
               'unicodedata')
    out.append(' * module of Python %s, Unicode %s.  Do not edit.'
               % (sys.version.split()[0], unicodedata.unidata_version))
    out.append(' */')
    out.append('#ifndef LANHTTPD_NFC_CASES_H')
    out.append('#define LANHTTPD_NFC_CASES_H')
    out.append('')
    out.append('#include <stdbool.h>')
    out.append('#include <stddef.h>')
    out.append('#include <stdint.h>')
    out.append('')
    out.append('#define NFC_CASES_UNICODE_VERSION\t"%s"'
               % unicodedata.unidata_version)
    out.append('')
    out.append('/*')
    out.append(' * Every code point that NFC changes on its own, sorted, with '
               'its NFC;')
    out.append(' * every other scalar value is its own NFC.')
    out.append(' */')
    out.append('static const struct nfc_single {')
    out.append('\tuint32_t\t cp;')
    out.append('\tconst char\t*nfc;')
    out.append('} nfc_singles[%d] = {' % len(changed))
    for cp in changed:
        out.append('\t{ 0x%04X, %s },' % (
            cp, c_string(unicodedata.normalize('NFC', chr(cp)).encode())))
    out.append('};')
    out.append('')
    out.append('/*')
    out.append(' * The NFD of every code point with a canonical decomposition, '
               'of Hangul')
    out.append(' * syllables, then random strings of Latin, Greek, Indic, '
               'kana, jamo,')
    out.append(' * emoji and combining marks of every class: the input, its '
               'NFC, and')
    out.append(' * whether the input is NFC already.')
    out.append(' */')
    out.append('static const struct nfc_case {')
    out.append('\tconst char\t*in;')
    out.append('\tsize_t\t\t in_len;')
    out.append('\tconst char\t*nfc;')
    out.append('\tsize_t\t\t nfc_len;')
    out.append('\tbool\t\t is_nfc;')
    out.append('} nfc_cases[%d] = {' % len(texts))
    out += case_rows(texts)
    out.append('};')
    out.append('')
    out.append('#endif /* LANHTTPD_NFC_CASES_H */')
    return '\n'.join(out) + '\n'


def main():
    if sys.argv[1:] == ['--tests']:
        sys.stdout.write(tests_header())
    elif sys.argv[1:] == []:
        sys.stdout.write(table_header())
    else:
        sys.exit('usage: nfc_table.py [--tests]')


if __name__ == '__main__':
    main()
