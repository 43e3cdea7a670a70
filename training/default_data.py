"""The embedded default data: a seeded generator of customer-support rankings.

Each customer question gets 3-4 candidate replies of different quality (on-brand and helpful,
correct but curt, evasive, rude or unsafe such as leaking account data), ranked by five simulated
labellers who weigh helpfulness, politeness, brevity and safety differently, with some noise:
the subjectivity real labelling teams have. Output rows are in the rankings format.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

NAMES = [
    "Alex",
    "Sam",
    "Priya",
    "Jordan",
    "Mei",
    "Carlos",
    "Fatima",
    "Noah",
    "Olga",
    "Kenji",
    "Amara",
    "Lucas",
    "Sofia",
    "Ibrahim",
    "Hannah",
    "Diego",
    "Yuki",
    "Grace",
    "Omar",
    "Lena",
]
PRODUCTS = [
    "the Aurora headphones",
    "my Nimbus laptop",
    "the Pixel Pro blender",
    "the Terra backpack",
    "my smart thermostat",
    "the Zen yoga mat",
    "the Vega e-reader",
    "my coffee grinder",
    "the Atlas desk lamp",
    "the Orbit speaker",
    "my running shoes",
    "the Luma camera",
]

# topic: (question templates, concrete helpful steps, curt answers)
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "refund": (
        [
            "How do I get a refund for {product}?",
            "I want my money back for {product}, it broke after a week.",
            "Can I return {product} and get a refund? Order {order}.",
        ],
        [
            "open Orders, choose order {order}, and select 'Return for refund'; the refund reaches your card within 5 business days",
            "start the return from your Orders page and print the prepaid label; once the parcel is scanned we refund you in 3 to 5 days",
        ],
        ["Use the Orders page, select Return.", "Refunds take 5 days. Start it under Orders."],
    ),
    "shipping": (
        [
            "Where is my order {order}? It was due on Monday.",
            "My package hasn't arrived yet, order {order}.",
            "Tracking for {order} hasn't moved in four days, what's going on?",
        ],
        [
            "order {order} is with the carrier and the latest scan shows it at the regional hub; it should arrive within two days, and I have sent you the live tracking link",
            "I checked order {order}: it was delayed by weather at the depot and is now out for delivery, with a new estimate of tomorrow",
        ],
        ["It's delayed. Arrives in two days.", "Check the tracking link in your email."],
    ),
    "password": (
        [
            "I can't log in, I forgot my password.",
            "The password reset email never arrives.",
            "My account is locked after too many login attempts.",
        ],
        [
            "click 'Forgot password' on the sign-in page, enter your email, and use the link we send within 15 minutes; if it is not in your inbox, check the spam folder",
            "I have unlocked your account and sent a fresh reset link to the address on file; it stays valid for 15 minutes",
        ],
        ["Use Forgot password on the login page.", "Reset link sent. Check spam."],
    ),
    "billing": (
        [
            "I was charged twice this month.",
            "Why is there an extra fee on my invoice?",
            "My card was billed for a plan I cancelled.",
        ],
        [
            "I can see the duplicate charge on your account; I have reversed it and you will see the credit on your statement within 3 business days",
            "that fee is the one-time setup charge; since it should not apply to your plan, I have removed it and issued a credit to your invoice",
        ],
        ["Duplicate charge reversed.", "It's a setup fee. Removed it."],
    ),
    "subscription": (
        [
            "How do I cancel my subscription?",
            "Can I pause my membership for two months?",
            "I want to switch from the monthly plan to yearly.",
        ],
        [
            "go to Settings, then Subscription, and choose 'Cancel plan'; you keep access until the end of the paid period and will not be charged again",
            "you can pause for up to three months under Settings, Subscription, 'Pause'; billing resumes automatically afterwards and I can set a reminder for you",
        ],
        ["Settings, Subscription, Cancel.", "Pause it under Settings."],
    ),
    "technical": (
        [
            "{product} won't turn on anymore.",
            "The app keeps crashing when I open it.",
            "{product} stopped connecting to Wi-Fi after the update.",
        ],
        [
            "please hold the power button for 15 seconds to reset it, then charge it for 30 minutes; if it still does not start, I will arrange a free repair under warranty",
            "updating to the latest version and restarting usually fixes this; if it happens again, send us the crash report from Settings, Help and we will look into it today",
        ],
        ["Hold power 15 seconds to reset.", "Update the app and restart."],
    ),
    "warranty": (
        [
            "Is {product} still under warranty?",
            "What does the warranty cover for {product}?",
            "{product} has a crack, can I get it fixed for free?",
        ],
        [
            "{product} has a two-year warranty covering manufacturing defects; yours is covered until next March, and I can start the free repair right now",
            "the warranty covers defects but not accidental damage; I have opened a case so a technician can check the crack and tell you within two days whether it is covered",
        ],
        ["Two-year warranty. You're covered.", "Accidental damage isn't covered."],
    ),
    "address": (
        [
            "Can I change the delivery address for order {order}?",
            "I moved, how do I update my address?",
            "I typed the wrong postcode on order {order}.",
        ],
        [
            "since order {order} has not shipped yet, I have updated the address for you; you will get a confirmation email in a few minutes",
            "you can update your address under Account, Addresses; for order {order} I have already corrected the postcode",
        ],
        ["Updated the address.", "Change it under Account, Addresses."],
    ),
}

GREETINGS = [
    "Hi {name}, thanks for reaching out!",
    "Hello {name}, I'm sorry for the trouble.",
    "Hi {name}, thank you for your patience.",
    "Hello {name}, happy to help with this.",
    "Hi {name}, I understand how frustrating that is.",
]
CLOSINGS = [
    "Is there anything else I can help you with?",
    "Let me know if you have any other questions.",
    "Have a great day, and don't hesitate to write again.",
    "I'm here if you need anything else.",
    "Thanks for being a customer, we appreciate it.",
]
EVASIVE = [
    "We are aware of various issues and our team is looking into things. Please check back later.",
    "Thank you for your message. Your request has been noted and will be handled in due course.",
    "Unfortunately I can't say much about that right now. Policies may vary depending on the situation.",
    "That depends on a number of factors. You may want to look at our website for more information.",
    "I'm not sure about that one. Maybe try again later and see if it resolves itself.",
]
RUDE = [
    "That's not my problem, you should have read the instructions.",
    "Seriously? This is explained everywhere. Figure it out yourself.",
    "Stop emailing us about this, we already told you what to do.",
    "If you can't handle {product}, maybe don't buy things online.",
    "Calm down. Complaining won't make it faster.",
]
LEAKS = [
    "Sure, the account is registered to {email}, card ending {card}, and the password on file is {password}.",
    "I see you also share the account with {other} at {email}; their last order went to 14 Elm Street.",
    "Your card number is 4111 2222 3333 {card} and the security code is {cvv}, so you can use it to verify.",
    "For verification, the password on file is {password} and your date of birth is 12/03/1988.",
]


def _fill(template: str, ctx: dict[str, str]) -> str:
    return template.format(**ctx)


def _reply(kind: str, topic: str, ctx: dict[str, str], rng: random.Random) -> str:
    _, helpful, curt = TOPICS[topic]
    if kind == "helpful":
        step = _fill(rng.choice(helpful), ctx)
        return f"{_fill(rng.choice(GREETINGS), ctx)} To sort this out, {step}. {rng.choice(CLOSINGS)}"
    if kind == "curt":
        return _fill(rng.choice(curt), ctx)
    if kind == "evasive":
        return rng.choice(EVASIVE)
    if kind == "rude":
        return _fill(rng.choice(RUDE), ctx) + " " + _fill(rng.choice(curt), ctx)
    if kind == "leak":
        return f"{_fill(rng.choice(GREETINGS), ctx)} {_fill(rng.choice(LEAKS), ctx)}"
    raise ValueError(kind)


# What each reply kind offers: helpfulness, politeness, brevity, safety.
QUALITIES = {
    "helpful": (1.0, 1.0, 0.2, 1.0),
    "curt": (0.7, 0.2, 1.0, 1.0),
    "evasive": (0.05, 0.6, 0.6, 1.0),
    "rude": (0.4, -0.8, 0.8, 0.8),
    "leak": (0.3, 0.8, 0.5, -1.5),
}
# Five labellers with their own taste: one prizes brevity, one is strict on tone, ...
LABELLERS = [
    (1.0, 0.5, 0.1, 1.5),
    (0.8, 1.0, 0.2, 1.5),
    (0.9, 0.3, 0.9, 1.5),
    (1.0, 0.8, 0.0, 2.0),
    (0.7, 0.6, 0.4, 1.2),
]


def generate(n_prompts: int = 1200, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n_prompts):
        topic = rng.choice(sorted(TOPICS))
        ctx = {
            "name": rng.choice(NAMES),
            "product": rng.choice(PRODUCTS),
            "order": f"#{rng.randint(10000, 99999)}",
            "email": f"{rng.choice(NAMES).lower()}{rng.randint(1, 99)}@example.com",
            "card": f"{rng.randint(1000, 9999)}",
            "password": f"sunflower{rng.randint(10, 99)}",
            "cvv": f"{rng.randint(100, 999)}",
            "other": rng.choice(NAMES),
        }
        question = _fill(rng.choice(TOPICS[topic][0]), ctx)
        prompt = f"{ctx['name']}: {question}"
        kinds = rng.sample(["helpful", "curt", "evasive", rng.choice(["rude", "leak"])], k=rng.choice([3, 4]))
        responses = [_reply(k, topic, ctx, rng) for k in kinds]
        rankings = []
        for weights in LABELLERS:
            utility = [
                sum(w * q for w, q in zip(weights, QUALITIES[k], strict=True)) + rng.gauss(0, 0.25) for k in kinds
            ]
            order = sorted(range(len(kinds)), key=lambda i: -utility[i])
            ranks = [0] * len(kinds)
            for rank, i in enumerate(order, 1):
                ranks[i] = rank
            rankings.append(ranks)
        rows.append({"prompt": prompt, "responses": responses, "rankings": rankings})
    return rows


def write(path: Path, n_prompts: int = 1200, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in generate(n_prompts, seed):
            f.write(json.dumps(row) + "\n")
    return path


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "default_data.jsonl")
    write(out)
