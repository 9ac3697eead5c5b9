#!/usr/bin/env python3
# Appends the runs of `scripts/chaos.sh --runs N --out DIR` (its seed-*.txt and seed-*.log) to the
# runs table of docs/chaos.md (between <!-- runs --> and <!-- /runs -->), with the commit their
# broker was built from, and rewrites the footer (runs, --netns runs, passed/failed per commit).
# usage: scripts/chaos-table.py docs/chaos.md COMMIT DIR [DIR...]
import sys, re, os, glob, datetime
doc, commit, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
labels = ['acknowledged writes', 'lost (acked, absent from the log)', 'duplicated in the log',
          'replica mismatches below the hwm', 'acks not matching the log (deposed leader)',
          'stream reads not in the final log', 'acked, never delivered to the group',
          'acked, then redelivered', 'partitions not settled after healing']
rows = []
for d in dirs:
    for txt in glob.glob(os.path.join(d, 'seed-*.txt')):
        t = open(txt).read()
        m = re.search(r'seed (\d+), (\d+) s, ([\w+]+), faults (\d+)', t)
        if not m: continue
        seed, mode, faults = m.group(1), m.group(3), m.group(4)
        def fig(label):
            mm = re.search(re.escape(label) + r'\s+(\d+)', t)
            return int(mm.group(1)) if mm else None
        vals = [fig(l) for l in labels]
        order = (fig('per-key order violations in the log') or 0) + (fig('per-key order violations in the group') or 0)
        outage = fig('longest write outage (ms)')
        result = 'PASS' if 'result: PASS' in t else 'FAIL'
        log = txt[:-4] + '.log'
        start = ''
        if os.path.exists(log):
            mm = re.search(r'\[nemesis\] (\d\d):(\d\d):(\d\d)\.(\d+) \+(\d+) ms', open(log).read())
            if mm:
                h, mi, s, ms, off = map(int, mm.groups())
                st = datetime.datetime(2000,1,1,h,mi,s,ms*1000) - datetime.timedelta(milliseconds=off)
                start = st.strftime('%H:%M:%S')
        rows.append((start, seed, mode, faults, vals, order, outage, result))
rows.sort()
text = open(doc).read()
a = text.index('<!-- runs -->'); b = text.index('<!-- /runs -->')
block = text[a:b]
lines = block.split('\n')
table = [l for l in lines if l.startswith('|')]
for (start, seed, mode, faults, vals, order, outage, result) in rows:
    v = vals
    table.append(f'| {start} | {seed} | {mode} | {faults} | {v[0]} | {v[1]} | {v[2]} | {v[3]} | {v[4]} | {v[5]} | {v[6]} | {v[7]} | {v[8]} | {order} | {outage} | {result} | {commit} |')
# footer
data = table[2:]
from collections import OrderedDict
by = OrderedDict()
netns = secure = 0
for l in data:
    c = [x.strip() for x in l.strip('|').split('|')]
    if c[2].startswith('netns'): netns += 1
    if c[2].endswith('+secure'): secure += 1
    p, f = by.get(c[16], (0, 0))
    by[c[16]] = (p + (c[15] == 'PASS'), f + (c[15] != 'PASS'))
footer = f'{len(data)} runs, {netns} with `--netns`, {secure} with `--secure`; by the broker they ran: ' + '; '.join(f'`{k}`: {p} passed, {f} failed' for k, (p, f) in by.items()) + '.'
newblock = '<!-- runs -->\n' + '\n'.join(table) + '\n\n' + footer + '\n'
text = text[:a] + newblock + text[b:]
open(doc, 'w').write(text)
print(footer)
