#!/usr/bin/env python3
# Writes what findimage's query text handling is checked against, from CLIP's reference code:
#
#   src/core/text/reference-text-tables.ts     the tables ftfy and Python's html.unescape use,
#                                               exported as they are in the reference
#   test/fixtures/clip-tokenizer/reference-ids.json
#                                               about 200 queries as people type them, with the
#                                               ids open_clip's SimpleTokenizer (OpenAI's CLIP
#                                               tokenizer: ftfy.fix_text, html.unescape twice,
#                                               whitespace clean-up, lowercase, BPE) gives them
#
# Run it in a throwaway virtual environment (no torch needed: the tokenizer module only imports it
# to build tensors, which this script does not ask for):
#
#   python3 -m venv /tmp/clip-ref
#   /tmp/clip-ref/bin/pip install --no-index --find-links /opt/pypi/files --no-deps open_clip_torch
#   /tmp/clip-ref/bin/pip install --no-index --find-links /opt/pypi/files ftfy regex numpy
#   /tmp/clip-ref/bin/python scripts/clip-text-reference.py
#
# (Without a local wheel folder, drop --no-index --find-links.) Tests never run Python: they read
# the two committed files. Regenerate both after changing QUERIES or upgrading ftfy/open_clip.

import html
import html.entities
import importlib.util
import json
import os
import sys
import types
import unicodedata

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252")
import ftfy.chardata as chardata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES_PATH = os.path.join(ROOT, "src", "core", "text", "reference-text-tables.ts")
FIXTURE_PATH = os.path.join(ROOT, "test", "fixtures", "clip-tokenizer", "reference-ids.json")
CONTEXT_LENGTH = 77
PROMPT_TEMPLATE = "a photo of {}"


def load_simple_tokenizer():
    """open_clip's tokenizer module, loaded on its own with a stand-in for torch."""
    if "torch" not in sys.modules:
        stub = types.ModuleType("torch")
        stub.LongTensor = object  # only used in annotations
        stub.Tensor = object
        sys.modules["torch"] = stub
    spec = importlib.util.find_spec("open_clip")
    if spec is None or spec.submodule_search_locations is None:
        sys.exit("open_clip is not installed; see the header of this script.")
    path = os.path.join(list(spec.submodule_search_locations)[0], "tokenizer.py")
    module_spec = importlib.util.spec_from_file_location("open_clip_tokenizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def reference_row(tokenizer, text):
    """SimpleTokenizer.__call__ for one text, without torch: the 77-id row, padding left off."""
    tokens = [tokenizer.sot_token_id] + tokenizer.encode(text) + [tokenizer.eot_token_id]
    if len(tokens) > CONTEXT_LENGTH:
        tokens = tokens[:CONTEXT_LENGTH]
        tokens[-1] = tokenizer.eot_token_id
    return tokens


# Queries as people type them: desktop and phone keyboards, pasted text, other scripts, HTML
# that arrived escaped, stray control characters. No mojibake: findimage does not port ftfy's
# encoding repair (fix_encoding), and generation stops if a query here would need it.
BASE_QUERIES = [
    "a photo of a cat",
    "red car",
    "A RED CAR AT NIGHT",
    "  sunset   over\tthe\nsea  ",
    "dog",
    "two dogs playing in the snow",
    "whiteboard sketch of the login page",
    "screenshot of an error message",
    "the team at the offsite, summer 2024",
    "our logo on a blue background",
    "receipt from the taxi",
    "diagram with arrows and boxes",
    "cat's toy",
    "it's a dog",
    "it’s a dog",
    "it‘s a dog",
    "itʼs a dog",
    "it‛s a dog",
    "don't panic",
    "don’t panic",
    "I'M HAPPY",
    "I’M HAPPY",
    "we're here, you've been there, they'll come, he'd go",
    "we’re here, you’ve been there, they’ll come, he’d go",
    '"car"',
    "“car”",
    "„car“",
    "‟car‟",
    "«car»",
    "‹car›",
    "the “best” photo",
    "5′ 10″ tall",
    "Ｌｏｕｄ　ｎｏｉｓｅｓ",
    "ＲＥＤ ＣＡＲ",
    "ｈｅｌｌｏ，ｗｏｒｌｄ！",
    "１２３ ｍａｉｎ ｓｔｒｅｅｔ",
    "ｶﾀｶﾅ",
    "ﬁsh and ﬂowers",
    "ﬀ ﬃ ﬄ ﬅ ﬆ",
    "Ĳsselmeer",
    "ǆungla",
    "café",
    "cafe\u0301",
    "naïve façade",
    "Ångström",
    "A\u030angstro\u0308m",
    "straße",
    "STRASSE",
    "İstanbul",
    "ısparta",
    "ΟΔΥΣΣΕΥΣ",
    "οδυσσευς",
    "Москва зимой",
    "東京タワー",
    "猫の写真",
    "夜の東京",
    "北京的天安门",
    "서울의 밤",
    "القاهرة في الليل",
    "תל אביב בלילה",
    "मुंबई का समुद्र तट",
    "กรุงเทพ",
    "Ελληνικά νησιά",
    "🐱 on a sofa",
    "🐱🎉",
    "👨‍👩‍👧 family picnic",
    "👍🏽 thumbs up",
    "🇯🇵 flag",
    "1️⃣ first place",
    "❤️ heart",
    "☕ coffee ☕",
    "R&D team",
    "AT&T store",
    "R&amp;D team",
    "AT&amp;T store",
    "a &lt;div&gt; on screen",
    "&lt;b&gt;bold&lt;/b&gt;",
    "<b>bold</b> &amp; strong",
    "1 < 2 &amp; 3 > 2",
    "tom &amp;amp; jerry",
    "tom &amp;amp;amp; jerry",
    "it&#39;s here",
    "it&#x27;s here",
    "it&#8217;s here",
    "it&rsquo;s here",
    "&ldquo;car&rdquo;",
    "caf&eacute; au lait",
    "CAF&EACUTE; AU LAIT",
    "&NTILDE;and&uacute;",
    "&AMP; &LT; &GT;",
    "fish&nbsp;and&nbsp;chips",
    "&copy 2020 photos",
    "&copy; 2020 photos",
    "&amp without semicolon",
    "&notit; and &notin;",
    "&#65;&#x42;&#67",
    "&#0; zero",
    "&#128; euro",
    "&#150; dash",
    "&#xD800; surrogate",
    "&#1114112; too big",
    "&#x1F431; cat",
    "&unknownentity; stays",
    "& alone",
    "a & b",
    "tab\there",
    "new\nline",
    "crlf\r\nline",
    "cr\ronly",
    "vertical\u000btab",
    "form\u000cfeed",
    "null\u0000char",
    "bell\u0007char",
    "\u001b[31mred\u001b[0m car",
    "escape\u001bchar",
    "delete\u007fchar",
    "next\u0085line",
    "c1\u0080euro",
    "c1\u0093quoted\u0094",
    "unit\u001fseparator",
    "zero\u200bwidth space",
    "soft\u00adhyphen",
    "bom\ufeffinside",
    "\ufeffbom at start",
    "line\u2028separator",
    "para\u2029separator",
    "word\u2060joiner",
    "ideographic\u3000space",
    "no\u00a0break\u00a0space",
    "thin\u2009space",
    "lone \ud800 surrogate",
    "emoji pair \U0001F600 ok",
    "<|endoftext|>",
    "a photo <|endoftext|> of a cat",
    "<|startoftext|>cat",
    "email me at someone@example.com",
    "https://example.com/photo.jpg",
    "#design channel",
    "@alice's upload",
    "file_name_with_underscores.png",
    "camelCaseWords",
    "snake_case and kebab-case",
    "version 2.0.1",
    "3.14159",
    "100%",
    "$1,000,000",
    "€50 and £20 and ¥1000",
    "temperature 25°C",
    "x² + y² = z²",
    "½ cup of sugar",
    "…and then",
    "wait... what?!",
    "em—dash and en–dash",
    "(parentheses) [brackets] {braces}",
    "C++ and C#",
    "Hello, World!",
    "¿Dónde está la playa?",
    "¡Hola!",
    "Ça va?",
    "Dziękuję",
    "Việt Nam",
    "Ørsted",
    "Þingvellir",
    "ﬁnal ﬁle “draft” — it’s ＯＫ",
    "a photo of a cat " * 20,
    "supercalifragilisticexpialidocious",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "",
    "   ",
    "\u0000\u0007",
    "\u200b\u200b",
]

# Each phone-keyboard variant of a few everyday queries, so the same words are seen both ways.
PHONE_VARIANTS = [
    ("it's my dog's ball", "it’s my dog’s ball"),
    ('the "new" office', "the “new” office"),
    ("we're at the 'beach'", "we’re at the ‘beach’"),
    ("Rock 'n' roll", "Rock ’n’ roll"),
    ("don't forget the keys", "don’t forget the keys"),
    ("Mom's birthday cake", "Mom’s birthday cake"),
    ("that's the one", "that’s the one"),
    ("o'clock", "o’clock"),
    ("80's party", "80’s party"),
    ("Bob said \"cheese\"", "Bob said “cheese”"),
]


def all_queries():
    queries = list(BASE_QUERIES)
    for desktop, phone in PHONE_VARIANTS:
        queries.append(desktop)
        queries.append(phone)
    # Full-width and HTML-escaped forms of some of the above.
    for text in ["red car", "photo 2024", "cat & dog", "it's ok"]:
        queries.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text))
        queries.append(html.escape(text))
        queries.append(html.escape(html.escape(text)))
    seen = set()
    unique = []
    for q in queries:
        if q not in seen:
            seen.add(q)
            unique.append(q)
    return unique


def check_no_encoding_repair(queries):
    """Stops if a query's reference cleaning depends on ftfy's fix_encoding, which is not ported."""
    needing = [q for q in queries if ftfy.fix_text(q) != ftfy.fix_text(q, fix_encoding=False)]
    if needing:
        sys.exit(f"These queries need ftfy's encoding repair, which findimage does not port: {needing!r}")


def ts_string(value):
    return json.dumps(value, ensure_ascii=True)


def write_tables():
    html5 = dict(sorted(html.entities.html5.items()))
    ftfy_entities = dict(sorted(chardata.HTML_ENTITIES.items()))
    sample_keys = ["&amp;", "&AMP;", "&NTILDE;", "&EACUTE;", "&szlig;", "&SZLIG;", "&rsquo;", "&RSQUO;", "&notin;"]
    samples = {k: ftfy_entities.get(k) for k in sample_keys}
    invalid_charrefs = {str(k): v for k, v in sorted(html._invalid_charrefs.items())}
    invalid_codepoints = sorted(html._invalid_codepoints)
    c1 = bytes(range(0x80, 0xA0)).decode("sloppy-windows-1252")
    ligatures = {chr(k): v for k, v in sorted(chardata.LIGATURES.items())}
    width = {chr(k): v for k, v in sorted(chardata.WIDTH_MAP.items())}
    control = sorted(chardata.CONTROL_CHARS.keys())
    lines = [
        "// GENERATED by scripts/clip-text-reference.py from Python "
        f"{sys.version.split()[0]} (Unicode {unicodedata.unidata_version}) and ftfy {ftfy.__version__}.",
        "// Do not edit: run the script again. The tables CLIP's reference text clean-up uses, so the",
        "// port in clip-text-clean.ts decodes entities and maps characters exactly as it does.",
        "",
        "/** Python's html.entities.html5: entity name (with or without ';') to its text. */",
        f"export const HTML5_ENTITIES: Readonly<Record<string, string>> = JSON.parse({ts_string(json.dumps(html5, ensure_ascii=False))});",
        "",
        "/**",
        " * How many entries ftfy's HTML_ENTITIES has ('&name;' and some upper-cased names). The port",
        " * derives the table from HTML5_ENTITIES by ftfy's rule; a test checks it gets this many.",
        " */",
        f"export const FTFY_HTML_ENTITY_COUNT = {len(ftfy_entities)};",
        "",
        "/** A few of ftfy's HTML_ENTITIES entries, to check the derived table against. */",
        f"export const FTFY_HTML_ENTITY_SAMPLES: Readonly<Record<string, string>> = JSON.parse({ts_string(json.dumps(samples, ensure_ascii=False))});",
        "",
        "/** Python's html._invalid_charrefs: numeric references HTML5 maps to other characters. */",
        f"export const INVALID_CHARREFS: Readonly<Record<string, string>> = JSON.parse({ts_string(json.dumps(invalid_charrefs, ensure_ascii=False))});",
        "",
        "/** Python's html._invalid_codepoints: numeric references that decode to nothing. */",
        f"export const INVALID_CODEPOINTS: readonly number[] = {json.dumps(invalid_codepoints)};",
        "",
        "/** Bytes 0x80-0x9F in ftfy's sloppy Windows-1252, as fix_c1_controls decodes C1 controls. */",
        f"export const C1_AS_WINDOWS_1252 = {ts_string(c1)};",
        "",
        "/** ftfy's LIGATURES: Latin ligatures and digraphs to their letters. */",
        f"export const LIGATURES: Readonly<Record<string, string>> = JSON.parse({ts_string(json.dumps(ligatures, ensure_ascii=False))});",
        "",
        "/** ftfy's WIDTH_MAP: full-width and half-width forms (and U+3000) to their usual width. */",
        f"export const WIDTH_MAP: Readonly<Record<string, string>> = JSON.parse({ts_string(json.dumps(width, ensure_ascii=False))});",
        "",
        "/** ftfy's CONTROL_CHARS: code points remove_control_chars deletes. */",
        f"export const CONTROL_CODEPOINTS: readonly number[] = {json.dumps(control)};",
        "",
    ]
    with open(TABLES_PATH, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def write_fixture(tokenizer_module):
    tokenizer = tokenizer_module.SimpleTokenizer()
    queries = all_queries()
    check_no_encoding_repair(queries)
    cases = []
    for text in queries:
        cases.append(
            {
                "text": text,
                "ids": reference_row(tokenizer, text),
                "promptIds": reference_row(tokenizer, PROMPT_TEMPLATE.format(text)),
            }
        )
    body = {
        "generator": "scripts/clip-text-reference.py",
        "reference": "open_clip SimpleTokenizer (clean='lower'), context length 77, padding left off",
        "openClipVersion": _open_clip_version(),
        "ftfyVersion": ftfy.__version__,
        "python": sys.version.split()[0],
        "promptTemplate": PROMPT_TEMPLATE,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(FIXTURE_PATH), exist_ok=True)
    with open(FIXTURE_PATH, "w", encoding="utf-8") as f:
        json.dump(body, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} queries to {os.path.relpath(FIXTURE_PATH, ROOT)}")


def _open_clip_version():
    from importlib.metadata import version

    return version("open_clip_torch")


if __name__ == "__main__":
    module = load_simple_tokenizer()
    write_tables()
    print(f"wrote {os.path.relpath(TABLES_PATH, ROOT)}")
    write_fixture(module)
