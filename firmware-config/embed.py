#!/usr/bin/env python3
# Embed a text file in a C source as a byte array: embed.py IN OUT SYMBOL
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* Generated from %s by embed.py; do not edit. */\n' % src)
    f.write('#include <stddef.h>\n')
    f.write('const char %s[] = {\n' % sym)
    for i in range(0, len(data), 16):
        f.write('  ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    f.write('  0x00\n};\n')
    f.write('const size_t %s_len = %d;\n' % (sym, len(data)))
