"""The embedded default data: a seeded generator of customer-support rankings.

Replies are composed from parts with many alternatives each (openers, acknowledgements, the
concrete help for the question, closings), so the model learns qualities rather than strings.
Each customer question gets 3-5 candidate replies of different kinds:

- ``good``: polite, specific help for the question asked;
- ``curt``: correct but curt;
- ``evasive``: no answer (deferral, policy talk, redirection without information, apology only);
- ``rude``: blame, sarcasm, dismissal or insult, with or without a curt answer;
- ``leak``: personal data of many kinds and formats (card numbers and CVVs, passwords, security
  answers, dates of birth, addresses, national ids, emails, phone numbers, another customer's
  name, order or address), shared casually or politely;
- ``leak_in_good`` / ``rude_in_good``: a good reply with a leak or an insult slipped in at its
  start, middle or end;
- ``degenerate``: a sentence repeated, a filler closing alone, one word, gibberish;
- ``off_topic``: a good-looking answer to a different question.

Five simulated labellers, who weigh helpfulness, politeness, brevity and safety differently and
add noise, rank the replies: the subjectivity real labelling teams have. Rows are in the rankings
format, with a ``kinds`` field that says what each reply is (the data reader ignores it; the
evaluation uses it).

Every phrasing list is a family of templates. ``HELD_OUT_TOPICS`` and every fourth template of
each family (``_held_out``) never appear in training data: ``write_splits`` writes them only into
``validation-heldout.jsonl``, so its accuracy measures judgement on phrasings never seen.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAMES = [
    "Alex", "Sam", "Priya", "Jordan", "Mei", "Carlos", "Fatima", "Noah", "Olga", "Kenji", "Amara", "Lucas",
    "Sofia", "Ibrahim", "Hannah", "Diego", "Yuki", "Grace", "Omar", "Lena", "Mateo", "Aisha", "Ravi", "Chloe",
    "Emeka", "Ingrid", "Pablo", "Zara", "Felix", "Nadia", "Hugo", "Leila", "Victor", "Anya", "Kofi", "Rosa",
]  # fmt: skip
SURNAMES = [
    "Garcia", "Okafor", "Novak", "Tanaka", "Schmidt", "Rossi", "Haddad", "Kowalski", "Silva", "Jensen", "Moreau",
    "Patel", "Nguyen", "Larsen", "Costa", "Fischer", "Ali", "Bauer", "Lindqvist", "Mendes",
]  # fmt: skip
ITEMS = [
    "headphones", "laptop", "blender", "backpack", "thermostat", "yoga mat", "e-reader", "coffee grinder",
    "desk lamp", "speaker", "running shoes", "camera", "air purifier", "toothbrush", "tent", "smartwatch",
    "robot vacuum", "tablet", "bookshelf", "keyboard", "rice cooker", "scooter", "baby monitor", "solar charger",
    "office chair", "monitor", "router", "drone", "hair dryer", "toaster", "printer", "microwave", "bike helmet",
    "suitcase", "water bottle", "phone case", "mattress", "sofa", "jacket", "vacuum cleaner", "air fryer",
    "electric razor", "game console", "dash cam", "webcam", "lawn mower", "heater", "fan",
]  # fmt: skip
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "zu",
    "bel",
    "sor",
    "nix",
    "ar",
    "quo",
    "dri",
    "fen",
    "ol",
    "sta",
    "mar",
    "pex",
    "ul",
    "ryn",
]


def _coined(rng: random.Random, parts: int = 2) -> str:
    """A made-up brand or name: the model meets unfamiliar words in good and bad replies alike."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _product(rng: random.Random) -> str:
    brand = _coined(rng, rng.choice([2, 3]))
    return rng.choice([f"the {brand} {rng.choice(ITEMS)}", f"the {rng.choice(ITEMS)}"])


STREETS = [
    "Elm Street",
    "Harbour Road",
    "Maple Avenue",
    "Station Lane",
    "Kingsway",
    "Oak Drive",
    "Mill Road",
    "Park Terrace",
]
CITIES = ["Springfield", "Leeds", "Bristol", "Lyon", "Porto", "Denver", "Adelaide", "Cork", "Utrecht", "Malmo"]
SECRET_WORDS = ["sunflower", "dragon", "bluebird", "pepper", "maverick", "tigerlily", "moonlight", "falcon"]
PETS = ["Rex", "Biscuit", "Luna", "Mittens", "Pepper", "Shadow"]

# topic: (questions, concrete help, curt answers). Every help line is specific to its question.
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "refund": (
        [
            "How do I get a refund for {product}?",
            "I want my money back for {product}, it broke after a week.",
            "Can I return {product} and get a refund? Order {order}.",
        ],
        [
            "open Orders, choose order {order}, and select 'Return for refund'; the refund reaches your card within 5 business days",
            "I have started the return for order {order} and emailed you a prepaid label; once the parcel is scanned we refund you in 3 to 5 days",
            "I have approved a full refund for {product} on order {order}; it will show on your statement within 5 business days, and you do not need to send it back",
        ],
        [
            "Use the Orders page, select Return.",
            "Refunds take 5 days. Start it under Orders.",
            "Return it for a refund.",
        ],
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
            "the carrier lost the scan for order {order}, so I have shipped a replacement by express today; you will have it by Thursday",
        ],
        ["It's delayed. Arrives in two days.", "Check the tracking link in your email.", "It ships soon."],
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
            "the reset emails were blocked by your provider, so I have whitelisted them and sent a new link just now; it works for 15 minutes",
        ],
        ["Use Forgot password on the login page.", "Reset link sent. Check spam.", "Account unlocked."],
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
            "the cancellation went through on the 3rd but the billing run had already started, so I have refunded the charge in full; expect it within 5 days",
        ],
        ["Duplicate charge reversed.", "It's a setup fee. Removed it.", "Refund issued."],
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
            "I have moved you to the yearly plan starting next cycle; the unused part of this month is credited, so you save about 20 percent",
        ],
        ["Settings, Subscription, Cancel.", "Pause it under Settings.", "Switched you to yearly."],
    ),
    "technical": (
        [
            "{product} won't turn on anymore.",
            "The app keeps crashing when I open it.",
            "{product} stopped connecting to Wi-Fi after the update.",
        ],
        [
            "please hold the power button for 15 seconds to reset it, then charge it for 30 minutes; if it still does not start, I will arrange a free repair under warranty",
            "updating to version 4.2 and restarting fixes this crash; if it happens again, send us the crash report from Settings, Help and we will look into it today",
            "the update reset the network settings, so forget the network, restart {product}, and join again with your Wi-Fi password; that restores the connection",
        ],
        ["Hold power 15 seconds to reset.", "Update the app and restart.", "Reconnect to Wi-Fi."],
    ),
    "warranty": (
        [
            "Is {product} still under warranty?",
            "What does the warranty cover for {product}?",
            "{product} has a crack, can I get it fixed for free?",
        ],
        [
            "{product} has a two-year warranty covering manufacturing defects; yours is covered until next March, and I can start the free repair right now",
            "the warranty covers defects in parts and labour but not accidental damage; I have opened a case so a technician can check the crack within two days",
            "since the crack started at the hinge, it counts as a manufacturing defect; I have booked a free repair and a courier will collect it on Friday",
        ],
        ["Two-year warranty. You're covered.", "Accidental damage isn't covered.", "It's covered."],
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
            "the carrier allows one change before dispatch, so I have redirected order {order} to the corrected postcode; the delivery date stays the same",
        ],
        ["Updated the address.", "Change it under Account, Addresses.", "Postcode fixed."],
    ),
    "damaged": (
        [
            "{product} arrived broken.",
            "The box for order {order} was crushed and {product} is scratched.",
            "Parts are missing from {product}, order {order}.",
        ],
        [
            "I am sorry it arrived damaged; I have sent a replacement for {product} by express, and you can keep or recycle the broken one",
            "I have logged the damage on order {order} and issued a replacement; a courier will pick up the scratched unit when they deliver the new one",
            "I have posted the missing parts for {product} today with tracking, and added a 10 percent credit to order {order} for the trouble",
        ],
        ["Replacement sent.", "We'll send the missing parts.", "Send us a photo."],
    ),
    "exchange": (
        [
            "Can I exchange {product} for a different colour?",
            "{product} is the wrong size, can I swap it?",
            "I'd like to exchange order {order} for the newer model.",
        ],
        [
            "yes, start an exchange under Orders, choose order {order}, and pick the colour you want; we ship the new one as soon as the courier collects the old one",
            "I have set up a size exchange for {product}; the prepaid label is in your email and the new size ships the day we receive the return",
            "the newer model costs 30 more, so I have created the exchange for order {order} with the difference charged only when it ships",
        ],
        ["Exchange it under Orders.", "Swap it with the label we sent.", "Exchanges are free."],
    ),
    "promo": (
        [
            "My discount code isn't working.",
            "I forgot to apply my promo code to order {order}.",
            "Is there a student discount for {product}?",
        ],
        [
            "that code expired on Sunday, but I have applied the same 15 percent discount to your basket by hand; you will see it at checkout",
            "I have refunded the 10 percent the code would have saved on order {order}; it reaches your card within 3 business days",
            "yes, students get 20 percent off {product} after verifying with a university email under Account, Discounts; the code arrives within minutes",
        ],
        ["The code expired.", "Discount refunded.", "Verify under Account, Discounts."],
    ),
    "privacy": (
        [
            "Please delete my account and all my data.",
            "What personal data do you store about me?",
            "How do I stop your marketing emails?",
        ],
        [
            "I have scheduled your account and its data for deletion; it completes within 30 days, and you will get an email confirming it",
            "you can download everything we store about you under Account, Privacy, 'Export my data'; the file is ready within 24 hours",
            "I have unsubscribed you from all marketing emails; you will only get messages about your orders from now on",
        ],
        ["Account deletion requested.", "Export it under Account, Privacy.", "Unsubscribed."],
    ),
    "gift_card": (
        [
            "My gift card balance shows zero but I never used it.",
            "How do I redeem a gift card on order {order}?",
            "Can I get a refund on an unused gift card?",
        ],
        [
            "the card was activated late at the store, so the balance did not load; I have credited the full 50 to your account and it is ready to spend",
            "enter the 16-character gift card code at checkout under 'Gift card or voucher'; for order {order} I have applied it already and refunded the difference",
            "gift cards cannot be refunded, but I have converted yours into store credit that never expires, so you can use it on anything",
        ],
        ["Enter the code at checkout.", "Balance restored.", "Gift cards aren't refundable."],
    ),
    "loyalty": (
        [
            "My loyalty points from order {order} never showed up.",
            "How do I use my reward points?",
            "Do my loyalty points expire?",
        ],
        [
            "points post 14 days after delivery, but I have added the 120 points for order {order} now, so you can use them today",
            "at checkout, tick 'Use my points'; every 100 points take 1 off the total, and you have 850 points available",
            "points expire after 12 months without a purchase; yours are safe until next June, and any order resets the clock",
        ],
        ["Points added.", "Tick 'Use my points' at checkout.", "They expire after a year."],
    ),
}
# The concrete help of a good reply is also composed: an action done for this question's subject
# and when the customer sees the result, or steps to follow. A good reply is recognised by what it
# does (a specific action, a time, a way forward), not by a fixed sentence.
ACTIONS: dict[str, tuple[list[str], list[str]]] = {
    # topic: (things done, "verb object" without the subject; steps the customer can follow)
    "refund": (["refunded {money} to your original payment method", "approved the refund for order {order}", "emailed you a free return label for order {order}", "issued a full refund for {product}"], ["open Orders, pick order {order} and choose 'Return for refund'", "drop the parcel at any post office with the label we emailed"]),
    "shipping": (["chased the carrier about order {order}", "sent a replacement for order {order} by express", "upgraded order {order} to next-day delivery", "refunded the delivery charge on order {order}"], ["use the tracking link in your dispatch email to see the live position", "check with your neighbours or building reception, where the driver left it"]),
    "password": (["sent a new reset link to the email on your account", "unlocked your account", "cleared the failed login attempts on your account", "turned on two-step verification for you"], ["click 'Forgot password' on the sign-in page and follow the link", "check your spam folder for the reset email, which comes from our no-reply address"]),
    "billing": (["reversed the duplicate charge", "removed the fee from your invoice", "refunded {money} to your card", "corrected your next invoice"], ["open Billing, then Invoices, to see the corrected amount", "compare the charge with the invoice under Account, Billing"]),
    "subscription": (["cancelled your subscription", "paused your membership until {day}", "switched you to the yearly plan", "turned off auto-renewal"], ["go to Settings, then Subscription, and choose 'Cancel plan'", "choose 'Pause' under Settings, Subscription, for up to three months"]),
    "technical": (["sent you the fixed firmware", "booked a free repair for {product}", "reset the device's cloud settings", "arranged a replacement for {product}"], ["hold the power button for 15 seconds, then charge it for 30 minutes", "update the app to the latest version and restart your phone"]),
    "warranty": (["opened a warranty claim for {product}", "booked a free repair under warranty", "extended your warranty by a year", "arranged a courier to collect {product}"], ["register {product} under Account, Products to see the warranty end date", "send us a photo of the fault and the serial number from the label"]),
    "address": (["updated the delivery address for order {order}", "redirected order {order} to your new address", "corrected the postcode on order {order}", "saved your new address to your account"], ["change your address under Account, Addresses before the order ships", "use the 'Change delivery' button in the tracking page"]),
    "damaged": (["sent a replacement for {product} by express", "refunded order {order} in full", "posted the missing parts with tracking", "logged the damage with the carrier"], ["keep the packaging until the courier collects the damaged item", "send us a photo of the damage so we can claim from the carrier"]),
    "exchange": (["set up the exchange for {product}", "reserved the new size for you", "emailed you a prepaid exchange label", "shipped the new colour today"], ["start an exchange under Orders and pick the colour you want", "pack the item with the exchange slip and drop it at the post office"]),
    "promo": (["applied the discount to order {order} by hand", "refunded the {money} the code would have saved", "created a new code that works until {day}", "added the student discount to your account"], ["enter the code in the 'Discount code' box at checkout, before payment", "verify your student status under Account, Discounts"]),
    "privacy": (["scheduled your account for deletion", "unsubscribed you from marketing emails", "prepared an export of your data", "removed your saved details from our mailing list"], ["download your data under Account, Privacy, 'Export my data'", "untick the boxes under Account, Communication preferences"]),
    "gift_card": (["restored the balance of your gift card", "converted your gift card into store credit", "applied your gift card to order {order}", "credited {money} to your account"], ["enter the gift card code at checkout under 'Gift card or voucher'", "check the balance under Account, Gift cards"]),
    "loyalty": (["added the missing points to your account", "moved your points to your new account", "extended your points until {day}", "credited the bonus points for order {order}"], ["tick 'Use my points' at checkout", "see your points history under Account, Rewards"]),
}  # fmt: skip
WHEN = [
    "; you'll see it within 3 business days", "; it arrives by {day}", ", effective immediately", " today",
    "; expect a confirmation email within the hour", ", and it should be done by {day}", " just now",
    "; it usually takes about {hours} hours",
]  # fmt: skip
DONE = ["I've", "I have", "we've", "I just"]


def _help(topic: str, ctx: dict[str, str], rng: random.Random) -> str:
    """The help for one question: a fixed specific answer, a composed action, or steps."""
    done, steps = ACTIONS[topic]
    style = rng.random()
    if style < 0.35:
        helps = TOPICS[topic][1]
        return helps[int(ctx["question"]) % len(helps)].format(**ctx)
    if style < 0.75:
        text = f"{rng.choice(DONE)} {rng.choice(done)}{rng.choice(WHEN)}"
        if rng.random() < 0.4:
            text += f", and {rng.choice([d for d in done if d != text])}"
        return text.format(**ctx)
    return (rng.choice(["please ", "you can ", "just ", ""]) + rng.choice(steps)).format(**ctx)


# Two topics never appear in training data: validation asks questions the model has not seen.
HELD_OUT_TOPICS = ("gift_card", "loyalty")

OPENERS = [
    "Hi {name},", "Hello {name},", "Dear {name},", "Hi there {name},", "Good morning {name},", "Hey {name},",
    "Hello {name}, and thanks for writing.", "Hi {name}, thanks for getting in touch.", "Good evening {name},",
    "{name}, hello!", "Hi {name}!", "Hello again {name},", "Thanks for your message, {name}.", "Hiya {name},",
]  # fmt: skip
ACKNOWLEDGEMENTS = [
    "I'm sorry for the trouble.", "thank you for your patience.", "I understand how frustrating that is.",
    "happy to help with this.", "thanks for reaching out.", "sorry this happened.", "I can sort this out for you.",
    "thanks for letting us know.", "I appreciate you flagging this.", "sorry for the wait.",
    "that's not the experience we want you to have.", "good question!", "no worries at all.",
    "I've looked into this for you.", "sorry about the mix-up.",
]  # fmt: skip
CONNECTORS = [
    "To sort this out, {help}.", "Here is what I did: {help}.", "Good news: {help}.", "{Help}.",
    "I looked into it, and {help}.", "Right away: {help}.", "So, {help}.", "I checked, and {help}.",
    "{Help}, so you don't need to do anything else.", "Here's the fix: {help}.",
]  # fmt: skip
# Sentences that add substance to a good reply: timelines, follow-ups, goodwill.
EXTRAS = [
    "You'll get a confirmation email within the next hour.", "No need to send anything back.",
    "I've added a {money} credit to your account for the trouble.", "If it happens again, just reply here and I'll escalate it.",
    "You can follow the progress under Orders on our website.", "I've made a note on your account so anyone you speak to can see it.",
    "The change takes effect immediately.", "It should reach you by {day}.", "I'll check back with you on {day} to make sure it's sorted.",
    "There's no extra charge for this.", "Your reference for this is {ref}.", "It usually takes about {hours} hours.",
]  # fmt: skip
# Good replies that touch personal data safely: the model must learn the difference.
SAFE_NOTES = [
    "For your security I won't repeat any account details here.", "I've sent the link to the email address on your account.",
    "If you need to speak to us, our support line is {support_phone}, open 8am to 8pm.",
    "You can also write to {support_email} at any time.", "I've verified your identity through the secure link we sent.",
    "We never ask for your password or full card number, so please don't share them.",
    "For safety, your card details are only shown in your account, not in messages.", "You can update your payment card under Account, Wallet.",
]  # fmt: skip
CLOSINGS = [
    "Is there anything else I can help you with?", "Let me know if you have any other questions.",
    "Have a great day, and don't hesitate to write again.", "I'm here if you need anything else.",
    "Thanks for being a customer, we appreciate it.", "All the best, {agent}", "Kind regards, {agent}",
    "Just reply to this message if anything is unclear.", "Take care!", "Best wishes, {agent} from Customer Care",
    "Thanks again for your patience.", "Cheers, {agent}",
]  # fmt: skip

EVASIVE = {
    "deferral": [
        "We are aware of various issues and our team is looking into things. Please check back later.",
        "Your request has been noted and will be handled in due course.",
        "Someone from the relevant department may get back to you at some point.",
        "We'll look into it when we can. Thanks for your patience.",
        "This has been passed on internally. No further action is needed from you for now.",
        "Our team will review this in the coming weeks.",
        "We have logged your feedback and it will be considered.",
        "Please allow some time for this to be processed.",
    ],
    "policy": [
        "Unfortunately I can't say much about that right now. Policies may vary depending on the situation.",
        "That falls under our general terms and conditions, which apply in all cases.",
        "Each case is different and is handled according to our policy.",
        "I'm afraid that is subject to our standard procedures.",
        "Our guidelines do not allow me to go into specifics on this.",
        "Any decision is made in accordance with the applicable terms.",
        "This is governed by company policy, which is reviewed regularly.",
        "Outcomes are determined by internal processes.",
    ],
    "non_answer": [
        "That depends on a number of factors.",
        "It's hard to say. Things like this can happen for many reasons.",
        "I'm not sure about that one. Maybe try again later and see if it resolves itself.",
        "There could be several explanations for what you are seeing.",
        "Results may vary from customer to customer.",
        "It might work, or it might not. Difficult to tell.",
        "Sometimes these things just happen.",
        "That is one of those situations without a simple answer.",
    ],
    "redirect": [
        "You may want to look at our website for more information.",
        "Please consult the FAQ section of our help centre.",
        "Try searching our community forum, someone may have had the same question.",
        "Please contact the appropriate team through the usual channels.",
        "Information about this is available online.",
        "Have a look at the documentation that came with your purchase.",
        "Another department handles that, please reach out to them.",
        "You'll find the details somewhere in your account settings.",
    ],
    "apology_only": [
        "We're sorry for any inconvenience this may have caused.",
        "We apologise for the experience and value your feedback.",
        "Sorry to hear that. We always strive to do better.",
        "Thank you for your feedback, it helps us improve.",
        "We regret that you feel this way.",
        "Apologies for any disappointment.",
        "We are sorry you had this experience and appreciate you telling us.",
        "Your satisfaction is important to us.",
    ],
}
RUDE = {
    "blame": [
        "That's not my problem, you should have read the instructions.",
        "This is what happens when customers don't pay attention.",
        "You clearly didn't follow the steps, so this is on you.",
        "Maybe next time read the manual before complaining.",
        "If you had checked your email you would already know.",
        "You broke it, you deal with it.",
        "This is entirely your own fault.",
        "Next time think before you order.",
        "You obviously ignored the warning on the box.",
        "Don't blame us for your own mistake.",
        "People like you never read anything.",
        "Well, you did it wrong. Simple as that.",
    ],
    "sarcasm": [
        "Wow, congratulations on breaking it already.",
        "Oh great, another genius who can't work {product}.",
        "Amazing, you managed to miss the giant button that says Help.",
        "Sure, because we have nothing better to do than explain this again.",
        "What a surprise, another complaint.",
        "Oh no, what a tragedy. Anyway.",
        "Brilliant detective work there.",
        "Thanks for the fascinating story.",
        "Gosh, you must be the first person ever to have this problem.",
        "Slow clap for reading the instructions, finally.",
        "Oh wonderful, this again.",
        "Well done, truly impressive.",
    ],
    "dismissal": [
        "Not my department. Figure it out yourself.",
        "Stop emailing us about this, we already told you what to do.",
        "Calm down. Complaining won't make it faster.",
        "Whatever. Do what you want.",
        "I don't have time for this.",
        "Not our problem. Goodbye.",
        "Stop wasting our time.",
        "Deal with it.",
        "Go complain somewhere else.",
        "Nobody cares, honestly.",
        "Leave us alone.",
        "Don't write to us again about this.",
    ],
    "insult": [
        "Seriously, how can anyone be this clueless?",
        "If you can't handle {product}, maybe don't buy things online.",
        "Honestly, your question is ridiculous.",
        "Are you even trying, or just being lazy?",
        "Only an idiot would ask that.",
        "That's a stupid question.",
        "You're clearly not very bright.",
        "What a pathetic complaint.",
        "Are you always this useless?",
        "Even a child could figure this out.",
        "You must be joking. Grow up.",
        "How dumb can you be?",
    ],
}
# (data kind, polite or casual wording) -> templates that reveal it
LEAKS = {
    "card": [
        "For your records, the card on file is {card_number}, expiring {expiry}, CVV {cvv}.",
        "btw your card number is {card_number} and the security code on the back is {cvv}",
        "I can see the full card {card_number} with code {cvv} on the account.",
        "The payment card we have is {card_number} (CVV {cvv}), in case you need it.",
        "Just so you know, card {card_number}, exp {expiry}, cvc {cvv} is saved on your profile.",
    ],
    "password": [
        "For verification, the password on file is {password}.",
        "your current login is {email} / {password}, just use that",
        "I have reset your password to {password}, which you can use right away.",
        "The account password stored with us is {password}.",
        "Your PIN is {pin} and your password is {password}.",
    ],
    "security_answer": [
        "The answer to your security question, your mother's maiden name, is {surname}.",
        "your security answer is {pet}, the name of your first pet",
        "For the record, the memorable word on your account is {secret_word}.",
        "I can confirm the secret answer on file is '{surname}'.",
        "The security question answer we hold is {pet}.",
    ],
    "date_of_birth": [
        "Your date of birth on file is {dob}.",
        "you were born on {dob} according to our records",
        "I've confirmed the birthday we hold for you, {dob}.",
        "The account holder's DOB is {dob}.",
        "We have {dob} as your date of birth.",
    ],
    "address": [
        "The account's home address is {house} {street}, {city}.",
        "we'll send it to your home at {house} {street}, {city}, like always",
        "I can see you live at Flat {flat}, {house} {street}, {city}.",
        "Your billing address is {house} {street}, {city} {postcode}.",
        "For reference, your registered address is {house} {street}, {city}.",
    ],
    "national_id": [
        "Your social security number on file is {ssn}.",
        "your national insurance number is {nino}",
        "I have your passport number as {passport}.",
        "The ID number we hold for you is {ssn}.",
        "Your tax ID on the account is {nino}.",
    ],
    "contact": [
        "The account is registered to {email} with phone {phone}.",
        "your phone number is {phone} and we email you at {email}",
        "I have your mobile as {phone}.",
        "The email we use for you is {email}, and the backup email is {email2}.",
        "You can be reached on {phone} according to the account.",
    ],
    "other_customer": [
        "I see you also share the account with {other} {other_surname} at {email2}; their last order went to {house} {street}.",
        "another customer, {other} {other_surname}, had the same problem with order {other_order}.",
        "{other} {other_surname}'s parcel, order {other_order}, is going to {house} {street}, {city}.",
        "The previous owner of this account, {other} {other_surname}, paid with card ending {last4}.",
        "I checked {other} {other_surname}'s account too: they live at {house} {street} and their phone is {phone}.",
    ],
}
DEGENERATE = ["repeat", "filler", "one_word", "gibberish"]
ONE_WORDS = [
    "ok",
    "Noted.",
    "Sure.",
    "k",
    "Yes.",
    "Fine.",
    "Done.",
    "Hmm.",
    "Thanks.",
    "?",
    "No.",
    "Ok!",
    "yep",
    "Received.",
    "Hello",
    "...",
]
FILLERS = [
    "Is there anything else I can help you with?",
    "Thank you for contacting us.",
    "Have a great day!",
    "Kind regards, the support team.",
    "Thanks for your message.",
]

# What each reply kind offers: helpfulness, politeness, brevity, safety.
QUALITIES = {
    "good": (1.0, 1.0, 0.2, 1.0),
    "curt": (0.7, 0.2, 1.0, 1.0),
    "evasive": (0.05, 0.6, 0.6, 1.0),
    "rude": (0.3, -1.0, 0.8, 1.0),
    "rude_in_good": (0.8, -1.0, 0.2, 1.0),
    "leak": (0.3, 0.8, 0.5, -1.5),
    "leak_in_good": (0.8, 1.0, 0.2, -1.5),
    "degenerate": (0.0, 0.2, 0.3, 1.0),
    "off_topic": (0.05, 1.0, 0.2, 1.0),
}
BAD_KINDS = ["evasive", "rude", "rude_in_good", "leak", "leak_in_good", "degenerate", "off_topic"]
# Five labellers with their own taste: one prizes brevity, one is strict on tone, ...
LABELLERS = [
    (1.0, 0.5, 0.1, 1.5),
    (0.8, 1.0, 0.2, 1.5),
    (0.9, 0.3, 0.9, 1.5),
    (1.0, 0.8, 0.0, 2.0),
    (0.7, 0.6, 0.4, 1.2),
]


def _held_out(i: int) -> bool:
    """Every fourth template of a family is kept for held-out validation."""
    return i % 4 == 3


def _pick(rng: random.Random, options: Sequence[str], held_out: bool | None) -> str:
    """One option; ``held_out`` True or False restricts to that part of the family, None takes any."""
    pool = [o for i, o in enumerate(options) if held_out is None or _held_out(i) == held_out]
    return rng.choice(pool or list(options))


def _context(rng: random.Random) -> dict[str, str]:
    name, other = (rng.choice(NAMES) if rng.random() < 0.6 else _coined(rng) for _ in range(2))
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1950, 2004)
    dob = rng.choice(
        [
            f"{d:02d}/{m:02d}/{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d} {_MONTHS[m - 1]} {y}",
            f"{_MONTHS[m - 1]} {d}, {y}",
            f"{d}.{m}.{y}",
        ]
    )
    first = rng.choice(["4", "5", "37", "6011"])
    body = first + "".join(str(rng.randint(0, 9)) for _ in range(16 - len(first)))
    card = rng.choice(
        [" ".join(body[i : i + 4] for i in range(0, 16, 4)), "-".join(body[i : i + 4] for i in range(0, 16, 4)), body]
    )
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    order = rng.choice(
        [
            f"#{rng.randint(10000, 99999)}",
            f"{letters}-{rng.randint(1000, 99999)}",
            f"{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            f"{letters}{rng.randint(10000, 99999)}",
        ]
    )
    return {
        "name": name,
        "other": other,
        "agent": rng.choice(NAMES) if rng.random() < 0.5 else _coined(rng),
        "surname": rng.choice(SURNAMES),
        "other_surname": rng.choice(SURNAMES),
        "product": _product(rng),
        "order": order,
        "other_order": f"#{rng.randint(10000, 99999)}",
        "ref": f"{rng.choice(['CS', 'RT', 'TK'])}-{rng.randint(10000, 99999)}",
        "money": rng.choice(["£", "€", "$"]) + str(rng.choice([5, 10, 15, 20, 25])),
        "day": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "tomorrow", "the end of the week", f"the {rng.randint(2, 28)}th"]),
        "hours": str(rng.choice([2, 12, 24, 48, 72])),
        "support_phone": rng.choice(["0800 555 0100", "1-800-555-0199", "+44 20 7946 0000"]),
        "support_email": rng.choice(["support@example.com", "help@shop.example", "care@example.net"]),
        "email": f"{name.lower()}{rng.choice(['', '.', '_'])}{rng.randint(1, 99)}@{rng.choice(['example.com', 'mail.test', 'inbox.example'])}",
        "email2": f"{other.lower()}{rng.randint(1, 99)}@example.org",
        "card_number": card,
        "last4": body[-4:],
        "expiry": f"{rng.randint(1, 12):02d}/{rng.randint(26, 31)}",
        "cvv": f"{rng.randint(100, 999)}",
        "pin": f"{rng.randint(1000, 9999)}",
        "password": rng.choice([rng.choice(SECRET_WORDS), _coined(rng, 3)]) + rng.choice(["", "!", "#", "_"]) + str(rng.randint(10, 2024)),
        "secret_word": rng.choice([*SECRET_WORDS, _coined(rng)]),
        "pet": rng.choice([*PETS, _coined(rng)]),
        "dob": dob,
        "house": str(rng.randint(1, 220)),
        "flat": str(rng.randint(1, 30)),
        "street": rng.choice(STREETS) if rng.random() < 0.6 else f"{_coined(rng)} {rng.choice(['Street', 'Road', 'Lane', 'Avenue', 'Close', 'Way'])}",
        "city": rng.choice(CITIES) if rng.random() < 0.6 else _coined(rng, 3),
        "postcode": rng.choice([f"{rng.randint(10000, 99999)}", f"BS{rng.randint(1, 9)} {rng.randint(1, 9)}QT", f"{rng.randint(1000, 9999)}"]),
        "ssn": f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "nino": f"QQ {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} C",
        "passport": f"{rng.choice(string.ascii_uppercase)}{rng.randint(1000000, 9999999)}",
        "phone": rng.choice(
            [f"+44 7700 900{rng.randint(100, 999)}", f"({rng.randint(200, 999)}) 555-0{rng.randint(100, 199)}", f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}", f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"]
        ),
    }  # fmt: skip


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]  # fmt: skip


def _opening(opener: str, rng: random.Random) -> str:
    ack = rng.choice(ACKNOWLEDGEMENTS)
    if opener.endswith((".", "!")):
        ack = ack[:1].upper() + ack[1:]
    return f"{opener} {ack}"


def _sentences_of_good(topic: str, ctx: dict[str, str], rng: random.Random) -> list[str]:
    """A good reply as a list of sentences: an opener (often with an acknowledgement), the help
    for this question, sometimes further substance or a safe note on personal data, a closing."""
    help_ = _help(topic, ctx, rng)
    body = rng.choice(CONNECTORS).format(help=help_, Help=help_[:1].upper() + help_[1:])
    opener = rng.choice(OPENERS).format(**ctx)
    parts = [_opening(opener, rng) if rng.random() < 0.7 else opener, body]
    for bank, chance in ((EXTRAS, 0.5), (SAFE_NOTES, 0.2), (EXTRAS, 0.15)):
        if rng.random() < chance:
            parts.append(rng.choice(bank).format(**ctx))
    if rng.random() < 0.75:
        parts.append(rng.choice(CLOSINGS).format(**ctx))
    return parts


def _insert(parts: list[str], sentence: str, rng: random.Random) -> str:
    """Slip ``sentence`` in at the start, middle or end of a reply."""
    where = rng.choice(["start", "middle", "end"])
    if where == "start":
        return " ".join([sentence, *parts])
    if where == "end":
        return " ".join([*parts, sentence])
    return " ".join([*parts[:-1], sentence, parts[-1]])


def _gibberish(rng: random.Random) -> str:
    words = [
        "".join(rng.choice("asdfghjklqwertyuiopzxcvbnm") for _ in range(rng.randint(2, 9)))
        for _ in range(rng.randint(1, 8))
    ]
    return " ".join(words)


def reply(kind: str, topic: str, ctx: dict[str, str], rng: random.Random, held_out: bool | None = False) -> str:
    """One reply of ``kind`` to a question of ``topic``; ``held_out`` picks the phrasing families
    (False: training phrasings, True: held-out phrasings, None: any)."""
    curts = TOPICS[topic][2]
    curt = curts[int(ctx["question"]) % len(curts)].format(**ctx)
    if kind == "good":
        return " ".join(_sentences_of_good(topic, ctx, rng))
    if kind == "curt":
        return curt
    if kind == "evasive":
        family = rng.choice(sorted(EVASIVE))
        text = _pick(rng, EVASIVE[family], held_out)
        opener = rng.choice(OPENERS).format(**ctx)
        return f"{opener} {text}" if rng.random() < 0.5 else text
    if kind in ("rude", "rude_in_good"):
        family = rng.choice(sorted(RUDE))
        insult = _pick(rng, RUDE[family], held_out).format(**ctx)
        if kind == "rude_in_good":
            return _insert(_sentences_of_good(topic, ctx, rng), insult, rng)
        return f"{insult} {curt}" if rng.random() < 0.7 else insult
    if kind in ("leak", "leak_in_good"):
        family = rng.choice(sorted(LEAKS))
        leak = _pick(rng, LEAKS[family], held_out).format(**ctx)
        leak = leak[:1].upper() + leak[1:] if rng.random() < 0.5 else leak
        if kind == "leak_in_good":
            return _insert(_sentences_of_good(topic, ctx, rng), leak, rng)
        opener = rng.choice(OPENERS).format(**ctx)
        return f"{opener} {leak}" + (f" {rng.choice(CLOSINGS).format(**ctx)}" if rng.random() < 0.5 else "")
    if kind == "degenerate":
        style = rng.choice(DEGENERATE)
        if style == "repeat":
            opener = rng.choice(OPENERS).format(**ctx)
            sentence = rng.choice([opener, _opening(opener, rng), rng.choice(FILLERS), curt, rng.choice(ITEMS)])
            return rng.choice([" ", ", "]).join([sentence] * rng.randint(3, 7))
        if style == "filler":
            return rng.choice(
                [rng.choice(FILLERS), rng.choice(OPENERS).format(**ctx), rng.choice(CLOSINGS).format(**ctx)]
            )
        if style == "one_word":
            return rng.choice([*ONE_WORDS, rng.choice(ITEMS), ctx["name"], ctx["order"]])
        return _gibberish(rng)
    if kind == "off_topic":
        other = rng.choice([t for t in TOPICS if t != topic and t not in HELD_OUT_TOPICS])
        return " ".join(_sentences_of_good(other, {**ctx, "question": str(rng.randrange(3))}, rng))
    raise ValueError(kind)


def _rank(kinds: list[str], rng: random.Random) -> list[list[int]]:
    rankings = []
    for weights in LABELLERS:
        utility = [sum(w * q for w, q in zip(weights, QUALITIES[k], strict=True)) + rng.gauss(0, 0.25) for k in kinds]
        order = sorted(range(len(kinds)), key=lambda i: -utility[i])
        ranks = [0] * len(kinds)
        for r, i in enumerate(order, 1):
            ranks[i] = r
        rankings.append(ranks)
    return rankings


def generate(n_prompts: int = 1200, seed: int = 0, held_out: bool = False) -> list[dict[str, Any]]:
    """Rankings rows. ``held_out`` False: training topics and phrasings only; True: the held-out
    topics and phrasing families only."""
    rng = random.Random(seed)
    topics = sorted(t for t in TOPICS if (t in HELD_OUT_TOPICS) == held_out)
    rows = []
    for _ in range(n_prompts):
        topic = rng.choice(topics)
        ctx = _context(rng)
        qi = rng.randrange(len(TOPICS[topic][0]))
        ctx["question"] = str(qi)
        question = TOPICS[topic][0][qi].format(**ctx)
        prompt = f"{ctx['name']}: {question}" if rng.random() < 0.8 else question
        others = rng.sample(BAD_KINDS, k=rng.randint(2, 3))
        kinds = ["good", *others] + (["curt"] if rng.random() < 0.5 else [])
        rng.shuffle(kinds)
        responses = [reply(k, topic, ctx, rng, held_out) for k in kinds]
        rows.append({"prompt": prompt, "responses": responses, "rankings": _rank(kinds, rng), "kinds": kinds})
    return rows


def write(path: Path, n_prompts: int = 1200, seed: int = 0, held_out: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in generate(n_prompts, seed, held_out):
            f.write(json.dumps(row) + "\n")
    return path


@dataclass(frozen=True)
class Splits:
    train: Path
    validation_seen: Path  # training topics and phrasings, new customers and wording combinations
    validation_heldout: Path  # held-out topics and phrasing families


def write_splits(directory: Path, n_prompts: int = 1200, seed: int = 0, val_fraction: float = 0.1) -> Splits:
    n_val = max(20, int(n_prompts * val_fraction))
    return Splits(
        train=write(directory / "train.jsonl", n_prompts, seed),
        validation_seen=write(directory / "validation-seen.jsonl", n_val, seed + 10_000),
        validation_heldout=write(directory / "validation-heldout.jsonl", n_val, seed + 20_000, held_out=True),
    )
