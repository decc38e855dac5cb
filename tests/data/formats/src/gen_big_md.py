"""Write a ~2 MB Markdown handbook (2000 sections: heading, paragraph, 2 bullets) for a big DOCX via pandoc.
stdlib only, deterministic.  usage: python3 gen_big_md.py OUT.md"""

import random
import sys

r = random.Random(3)
W = "access account audit backup breach classification compliance data device encryption policy review risk".split()
out = ["---", "title: Big handbook", "---"]
for i in range(1, 2001):
    out += [
        f"## Section {i}",
        " ".join(r.choice(W) for _ in range(120)) + ".",
        "- " + " ".join(r.choice(W) for _ in range(10)),
        "- " + " ".join(r.choice(W) for _ in range(10)),
        "",
    ]
open(sys.argv[1], "w").write("\n\n".join(out))
