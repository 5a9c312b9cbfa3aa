#!/usr/bin/env python3
"""Fills translations/openai-api-route_zh_CN.ts from zh_CN.py and the English
.ts with identity translations; fails when a source text has no translation."""
import pathlib, sys
import xml.etree.ElementTree as ET

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here))
from zh_CN import ZH, KEEP_ENGLISH  # noqa: E402

def fill(path, lookup, plural_forms):
    tree = ET.parse(path)
    missing = []
    for message in tree.getroot().iter('message'):
        source = message.find('source').text or ''
        translation = message.find('translation')
        text = lookup(source)
        if text is None:
            missing.append(source)
            continue
        translation.attrib.pop('type', None)
        if message.get('numerus') == 'yes':
            # "%n model(s)": one form per plural form of the language.
            for old in list(translation):
                translation.remove(old)
            translation.text = None
            for form in plural_forms(text):
                ET.SubElement(translation, 'numerusform').text = form
            continue
        translation.text = text
    tree.write(path, encoding='utf-8', xml_declaration=True)
    return missing

root = here.parent
missing = fill(root / 'openai-api-route_zh_CN.ts', lambda s: s if s in KEEP_ENGLISH else ZH.get(s),
               lambda t: [t])
fill(root / 'openai-api-route_en.ts', lambda s: s,
     lambda t: [t.replace('(s)', ''), t.replace('(s)', 's')])
if missing:
    print('untranslated:', *missing, sep='\n  ')
    sys.exit(1)
