"""Write a ~N MB (default 50) site page: nav, cookie banner, huge <article>, newsletter, footer.
stdlib only, deterministic.  usage: python3 gen_big_html.py OUT.html [MB]
"""

import random
import sys

WORDS = (
    "access account audit backup breach classification compliance confidential control data "
    "device encryption employee exception firewall incident information laptop monitoring network "
    "password personal policy privileged procedure record retention review risk security service "
    "supplier system transfer vendor the of and to must be is in for with each every by a an"
).split()

HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Handbook | Example</title>
<link rel="canonical" href="https://example.org/handbook/"><meta name="author" content="Security Office">
</head><body>
<div id="cookie-banner" class="cookie-banner"><p>We use cookies to personalise content and ads. By clicking “Accept all”, you consent to our use of cookies.</p><button>Accept all</button><button>Reject</button></div>
<header><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/policies/">Policies</a></li><li><a href="/contact/">Contact</a></li></ul></nav></header>
<main><article><h1>Information Security Handbook</h1>
"""
TAIL = """</article>
<aside class="newsletter"><h2>Sign up for our newsletter</h2><p>Subscribe and never miss an update.</p></aside></main>
<footer><p>© 2024 Example Ltd. All rights reserved.</p><p><a href="/privacy/">Privacy</a> | <a href="/terms/">Terms</a></p></footer>
</body></html>
"""


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."


def main(out: str, mb: float = 50) -> None:
    rng = random.Random(7)
    target = int(mb * 1_000_000)
    size = 0
    with open(out, "w", encoding="utf-8") as f:
        f.write(HEAD)
        n = 0
        while size < target:
            n += 1
            parts = [f'<section id="s{n}"><h2>Section {n}</h2>\n']
            for _ in range(3):
                parts.append(
                    '<p class="para"><span>'
                    + " ".join(sentence(rng) for _ in range(4))
                    + "</span></p>\n"
                )
            parts.append(
                "<ul>"
                + "".join(f'<li><a href="/r/{n}/{i}">{sentence(rng)}</a></li>' for i in range(4))
                + "</ul>\n"
            )
            parts.append(
                "<table><thead><tr><th>Item</th><th>Owner</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{n}.{i}</td><td>{rng.choice(WORDS)}</td></tr>" for i in range(3)
                )
                + "</tbody></table></section>\n"
            )
            s = "".join(parts)
            f.write(s)
            size += len(s.encode("utf-8"))
        f.write(TAIL)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 50)
