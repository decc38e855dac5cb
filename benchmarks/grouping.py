"""`python -m benchmarks.grouping`: how similar the model finds pairs of questions that are the
same, paraphrased or different, which is what `policy-qa report`'s GROUP_SIMILARITY rests on.

Prints each pair's cosine similarity (after `unframed`, as the report computes it), each kind's
range, and the pairs on the wrong side of the threshold.
"""

from __future__ import annotations

from assistant.embedding import default_embedder
from assistant.reading import unframed
from assistant.records.report import GROUP_SIMILARITY

# The same question in other case, punctuation, contractions or framing: must group.
REWORDED = [
    ("Can I bring my dog to work?", "can i bring my dog to work"),
    ("Can I bring my dog to work?", "CAN I BRING MY DOG TO WORK??"),
    ("Why was Kaspersky banned?", "why was kaspersky banned"),
    ("Can I bring my dog to work?", "Hi! Can I bring my dog to work? Thanks a lot!"),
    ("Can I bring my dog to work?", "Could you please tell me if I can bring my dog to work?"),
    ("Can I bring my dog to work?", "can i bring my dog into work"),
    ("Can I bring my dog to work?", "May I bring my dog to work?"),
    ("How many days of annual leave do I get?", "how many days annual leave do i get"),
    ("How many days of annual leave do I get?", "How many annual leave days do I have?"),
    ("What is the refund policy?", "what's the refund policy"),
    ("Who is the CEO?", "Who's the CEO"),
]
# The same question in other words: grouping them is welcome, not required.
PARAPHRASED = [
    ("Can I bring my dog to work?", "Can I brng my dog to wrk?"),  # typos in the words that matter
    ("Can I bring my dog to work?", "Are dogs allowed in the office?"),
    ("Can I bring my dog to work?", "Can I bring my dog to the office?"),
    ("How many days of annual leave do I get?", "How much holiday am I entitled to?"),
    ("How many days of annual leave do I get?", "How many days of holiday do I get?"),
    ("Can I work from home?", "Is remote working allowed?"),
    ("Can I work from home?", "Can I work from home on Fridays?"),
    ("What is the refund policy?", "How do I get my money back?"),
    ("What is the refund policy?", "What's your policy on refunds?"),
    ("Why was Kaspersky banned?", "What was the reason Twitter banned Kaspersky's ads?"),
    ("Why was Kaspersky banned?", "Why did Twitter ban Kaspersky?"),
    ("Why was Kaspersky banned?", "why was kaspersky banned from twitter"),
    ("When do I get paid?", "What day is payday?"),
    ("Can I work from Spain for a month?", "Is it OK to work abroad for a few weeks?"),
    ("Who do I report sick leave to?", "Who should I tell when I am ill?"),
    ("How do I claim travel expenses?", "How can I get reimbursed for a business trip?"),
    ("Can I keep a cat in my flat?", "Are pets allowed in the apartment?"),
    ("What time does the pool open?", "When does the swimming pool open?"),
    ("How long can I borrow a book for?", "What is the loan period for books?"),
]
# Different questions, often on the same subject: must not group.
DIFFERENT = [
    ("Can I bring my dog to work?", "Can I bring my child to work?"),
    ("Can I bring my dog to work?", "Can I bring my bike to work?"),
    ("Can I bring my dog to work?", "Can I bring my cat to work?"),
    ("How many days of annual leave do I get?", "How many days of sick leave do I get?"),
    ("How many days of annual leave do I get?", "How many days of parental leave do I get?"),
    ("What time does the pool open?", "What time does the gym close?"),
    ("What time does the pool open?", "What time does the pool close?"),
    ("Why was Kaspersky banned?", "When was Kaspersky founded?"),
    ("When was Kaspersky Lab founded?", "Why was Kaspersky banned?"),
    ("Why was Kaspersky banned?", "What did Jack Dorsey reply?"),
    ("What will happen to the ad budget?", "Why was Kaspersky banned?"),
    ("Can I work from home?", "Can I work overtime?"),
    ("What is the refund policy?", "What is the privacy policy?"),
    ("How do I claim travel expenses?", "How do I book travel?"),
    ("Can I keep a cat in my flat?", "Can I sublet my flat?"),
    ("How long can I borrow a book for?", "How much is the fine for a late book?"),
    ("Who do I report sick leave to?", "Who approves annual leave?"),
    ("When do I get paid?", "How much do I get paid?"),
    ("Can I get a Labrador?", "Can I get a parking space?"),
    ("What is the deadline for expense claims?", "What is the limit for expense claims?"),
    ("Can I park at the office?", "Can I smoke at the office?"),
    ("Who is the CEO?", "Who is the CFO?"),
    ("How do I reset my password?", "How do I change my email address?"),
]


def main() -> None:
    embedder = default_embedder()
    print(f"threshold {GROUP_SIMILARITY}")
    for name, pairs, should_group in (
        ("reworded", REWORDED, True),
        ("paraphrased", PARAPHRASED, None),
        ("different", DIFFERENT, False),
    ):
        left = embedder.embed([unframed(a) for a, _ in pairs])
        right = embedder.embed([unframed(b) for _, b in pairs])
        similarities = (left * right).sum(axis=1).tolist()
        grouped = sum(s >= GROUP_SIMILARITY for s in similarities)
        print(
            f"\n{name}: {len(pairs)} pairs, {min(similarities):.3f}-{max(similarities):.3f}, "
            f"{grouped} grouped"
        )
        for (a, b), s in sorted(zip(pairs, similarities, strict=True), key=lambda t: t[1]):
            wrong = should_group is not None and (s >= GROUP_SIMILARITY) != should_group
            print(f"  {s:.3f} {'WRONG ' if wrong else ''}{a!r} ~ {b!r}")


if __name__ == "__main__":
    main()
