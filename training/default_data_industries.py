"""The embedded generator's tables, one per industry: customer questions by topic, with the
concrete help a good reply gives, curt answers, steps for a bulleted reply, bad news told with a
reason and an alternative, and the wrong or harmful instructions a bad reply may give.

Placeholders in braces are filled from the generator's context (``default_data._context``): the
customer's ``{name}``, a made-up ``{brand}``, ``{order}``, ``{pnr}``, ``{policy}``, ``{flight}``,
``{appt}``, ``{game}``, ``{restaurant}``, ``{dish}``, ``{app}``, ``{meter}``, ``{money}``, ``{day}``,
``{hours}``, ``{ref}``, the customer's own masked card ``{last4}`` and so on. Help lines never
carry a secret: good replies mention a card only by its last four digits.

Every brand, name and number here is invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class Topic(NamedTuple):
    questions: Sequence[str]
    helps: Sequence[str]  # the concrete help, specific to the question (sentence fragments)
    curts: Sequence[str]  # correct but curt answers
    steps: Sequence[str] = ()  # steps the customer can follow (a bulleted reply)
    bad_news: Sequence[str] = ()  # "no", with the reason and an alternative
    done: Sequence[str] = ()  # actions done, "verb object" without the subject (composed help)


class Industry(NamedTuple):
    brand: Sequence[str]  # brand patterns; {c} is a made-up word
    ref_noun: str  # what the customer's reference number refers to
    topics: dict[str, Topic]
    held_out: tuple[str, ...]  # topics that appear only in held-out validation
    harmful: Sequence[str]  # wrong or harmful instructions specific to the industry


# Online retail: the original shop. topic: (questions, concrete help, curt answers).
_RETAIL_TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
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
_RETAIL_ACTIONS: dict[str, tuple[list[str], list[str]]] = {
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


RETAIL_THIRD_PARTY = Topic(
    ["Can you tell me what my girlfriend ordered? I think it's my birthday present.", "What address did {other} {other_surname}'s order go to? We're neighbours.", "My roommate uses the same shop, can you show me his order history?"],
    ["I'm sorry, I can't share what another customer has ordered, even to save a surprise; if a parcel arrives for you, you'll get the usual delivery email", "I'm sorry, I can't share anything about another customer's orders or address; if a parcel for a neighbour came to you by mistake, I can arrange for the courier to collect it", "I can't show another person's order history, even a housemate's; they can share an order with you from their account if they want to"],
    ["I can't share another customer's orders."],
)  # fmt: skip
RETAIL = Industry(
    brand=("{c}", "{c} Store", "{c} Shop", "{c} Market"),
    ref_noun="order",
    topics={
        **{t: Topic(q, h, c, steps=_RETAIL_ACTIONS[t][1], done=_RETAIL_ACTIONS[t][0]) for t, (q, h, c) in _RETAIL_TOPICS.items()},
        "third_party": RETAIL_THIRD_PARTY,
    },
    held_out=("gift_card", "loyalty"),
    harmful=[
        "Returns are only accepted if you pay a {money} restocking fee upfront, even for faulty items.",
        "To process the refund, email us your full card number and the security code on the back.",
        "The 'order placed' email for an order you didn't make is a glitch, just ignore it.",
        "If the charger overheats, wrap it in a towel and keep using it; that's normal.",
        "Refunds are only given as store credit, never to your card, and they expire after a week.",
        "To confirm the address change, please read me the code we just texted you.",
        "Leave the parcel outside for the courier with your spare key under the mat.",
        "Warranty claims are void once you've opened the box, so there's nothing we can do.",
    ],
)  # fmt: skip

BANKING = Industry(
    brand=("{c} Bank", "{c} Savings", "{c} Credit Union"),
    ref_noun="account",
    topics={
        "lost_card": Topic(
            ["I lost my debit card, what do I do?", "My card was stolen this morning, can you block it?", "I think I left my card at a restaurant, the one ending {last4}."],
            ["I have frozen the card ending {last4} so nobody can use it, and a replacement is on its way to the address on your account; it arrives in 3 to 5 working days", "the card ending {last4} is now permanently blocked and a new one has been ordered; until it arrives you can pay with your phone, since the new card number is already in your app wallet", "I have frozen the card ending {last4} for now; if the restaurant has it, you can unfreeze it in the app in one tap, and if not, report it lost there and a new card is sent the same day"],
            ["Card blocked. New one on the way.", "Freeze it in the app."],
            steps=["open the app and tap Cards, then 'Freeze card'", "choose 'Report lost or stolen' to cancel it and order a replacement", "check Recent payments and tell us about any you don't recognise"],
            bad_news=["I can't unblock a card once it has been reported stolen, because the number may be in someone else's hands, but I have ordered an express replacement that arrives by {day} and you can use your digital card today"],
        ),
        "fraud": Topic(
            ["There's a payment I don't recognise on my account.", "Someone took {money} from my account, I didn't do this!", "I got a text saying my account was used abroad, is that real?"],
            ["I have blocked the card ending {last4}, raised a dispute for the payment and credited the {money} back while we investigate; you will hear from the fraud team within {hours} hours", "I'm sorry, that must be worrying; I have frozen the card ending {last4}, raised a fraud claim and put the {money} back in your account while the fraud team investigates, and they'll contact you within {hours} hours", "that text was genuine: we stopped a payment attempt abroad, nothing left your account, and the card ending {last4} is frozen until you confirm in the app that you still have it"],
            ["Dispute raised.", "Yes, the alert was real. Card frozen."],
            steps=["freeze the card in the app under Cards", "tap the payment and choose 'I don't recognise this'", "we refund it while we investigate, usually within {hours} hours"],
            bad_news=["I can't reverse the payment straight away, because it was approved with your card in person, but I have opened a dispute and the fraud team will contact you by {day}; the card is frozen meanwhile"],
        ),
        "transfer": Topic(
            ["My transfer to my landlord hasn't arrived after two days.", "How long does an international transfer take?", "I sent money to the wrong account, can I get it back?"],
            ["your transfer left on time but the receiving bank is holding it for a routine check; I have contacted them and it should clear by {day}", "international transfers usually arrive in 1 to 3 working days; you can follow each step under Payments until it lands", "we have sent a recall request to the receiving bank for the payment you made in error; they usually reply within 10 working days and I will update you as soon as they do"],
            ["It's with the receiving bank.", "International transfers take 1 to 3 days."],
            steps=["open Payments and tap the transfer to see its status", "if it says 'Sent', the receiving bank has it and can take up to a working day", "if it says 'Held', reply here and I'll chase it for you"],
            bad_news=["I can't take the money back myself, because it has already reached the other account, but I have asked their bank to return it and we will keep you updated every step of the way"],
        ),
        "overdraft": Topic(
            ["Why was I charged an overdraft fee?", "Can I increase my overdraft limit?", "The overdraft fee on my statement is wrong."],
            ["the fee came from a card payment that went through after your salary arrived late; as a one-off I have refunded the {money} fee", "I have put in a request to raise your overdraft limit; you will get a decision in the app within {hours} hours and there is no fee to apply", "you're right, the fee was worked out on a day you were in credit; I have refunded the {money} and corrected the statement, which you'll see within 2 working days"],
            ["Fee refunded.", "Apply in the app under Borrowing."],
            steps=["open Borrowing in the app", "choose 'Change my overdraft' and enter the new limit", "you'll get a decision within {hours} hours"],
            bad_news=["I can't raise the limit this month because the account was opened less than 90 days ago, but you can apply again from {day}, and I have set a low-balance alert so you won't be caught out"],
        ),
        "statement": Topic(
            ["How do I get a statement for my mortgage application?", "I need a stamped bank statement for the last three months.", "Where can I download old statements?"],
            ["I have emailed a certified statement for the last three months to the address on your account; it is accepted by mortgage lenders", "I have ordered a stamped statement for the last three months; it is posted to the address on your account and arrives by {day}", "you can download statements going back seven years under Accounts, Statements, as PDFs, and order older ones there too"],
            ["Accounts, Statements.", "Stamped copy posted."],
            steps=["log in and open Accounts", "choose Statements and pick the months you need", "tap 'Download PDF', or 'Order a stamped copy' for a posted one"],
        ),
        "third_party": Topic(
            ["What's my husband's account balance? We're married.", "Can you tell me which account my son sent his money to?", "My mother is in hospital, can you read me her card number so I can pay her bills?"],
            ["I'm sorry, I can't share details of anyone else's account, even a family member's; they can add you as a trusted contact in the app, or give you power of attorney, and then we can help you directly", "I'm sorry, I can't tell you where your son's money went, because it's his account; if he's under 16 and you're the parent on the account, you can see it in your own app under Family", "for your mother's privacy I can't give out her card or account details, but she can set up a third-party mandate for you over the phone with us, and we can talk her through it at the hospital"],
            ["I can't share another person's account."],
        ),
    },
    held_out=("statement",),
    harmful=[
        "That fraud alert is just a glitch in our system, so ignore it and keep using your card as normal.",
        "To protect your savings, move them to the safe holding account I'm about to text you; it's standard procedure.",
        "There's a {money} fee to reopen a frozen account, and it has to be paid before we can look into the fraud.",
        "You can approve the payment request in the app even if you don't recognise it; the fraud team will sort it out later.",
        "Disputes are only accepted within 24 hours, so unfortunately you'll have to absorb the loss.",
        "Just turn off the security notifications in the app, they cause most of these false alarms.",
        "For a faster refund, send your card number and the three digits on the back to our refunds email.",
        "Write your PIN on the back of the new card so you don't get locked out again.",
    ],
)  # fmt: skip

TELECOM = Industry(
    brand=("{c} Mobile", "{c} Telecom", "{c} Broadband"),
    ref_noun="account",
    topics={
        "no_signal": Topic(
            ["I have no signal at home since yesterday.", "My phone says 'No service' everywhere.", "Calls keep dropping in {city}, is there an outage?"],
            ["there is a mast repair in your area that caused the drop; it should be fixed by {day}, and I have added a {money} credit for the days without service", "your SIM was deactivated by mistake after the plan change; I have reactivated it, so restart your phone and the signal returns within 10 minutes", "yes, there's a network fault in {city} that drops calls; engineers expect it fixed by {day}, and I've added a {money} credit to your bill for the disruption"],
            ["Mast repair, fixed by {day}.", "Restart your phone."],
            steps=["restart the phone with flight mode on and off", "check Settings, Mobile network, and make sure roaming and data are on", "if it still says 'No service', reply here and we'll send a new SIM free"],
            bad_news=["I can't fix this remotely because the fault is in the local mast, which engineers repair by {day}, but I have turned on Wi-Fi calling for you so you can make calls at home meanwhile"],
        ),
        "bill_shock": Topic(
            ["Why is my bill {money} higher this month?", "I was charged roaming fees but I never left the country.", "My bill has a charge for a premium service I never signed up for."],
            ["the extra {money} is for calls to international numbers on the 12th; if that wasn't you, I'll block international calls and refund them, just reply to confirm", "the extra came from data used while your phone connected to a network across the border; since you never left, I have refunded the roaming charges in full", "the premium charge was from a text subscription you did not sign up for; I have blocked premium services on your line and refunded {money}"],
            ["Roaming charge refunded.", "Premium services blocked."],
            steps=["open My bill and tap the charge to see what it is", "turn on the spending cap under Settings, Limits", "reply with the charge if you don't recognise it and we'll check it"],
        ),
        "upgrade": Topic(
            ["Am I eligible for a phone upgrade yet?", "I'd like to switch to the unlimited data plan.", "How much to end my contract early?"],
            ["you're eligible from {day}; the upgrade offers are under My account, Upgrade, and there is no fee to switch once you are", "I have moved you to the unlimited plan from your next bill date; the price difference is {money} a month and nothing changes on your number", "ending the contract now costs the remaining monthly payments for the phone and nothing else; I have emailed you the exact figure"],
            ["Eligible from {day}.", "Switched to unlimited."],
            steps=["log in and open Upgrade", "pick a plan or a phone and check the monthly price", "confirm; the change starts on your next bill date"],
            bad_news=["ending the contract early costs the remaining months, because the phone is paid off through them, but you can switch to a SIM-only plan on the same contract and save {money} a month"],
        ),
        "porting": Topic(
            ["How do I keep my number when I switch to you?", "My number transfer from my old provider is stuck.", "I want to move my number to another network."],
            ["ask your old provider for a switching code by text, then enter it under My account, Keep my number; the move happens the next working day", "your transfer was stuck because the switching code had expired; I have requested a new one and your number moves across by {day}", "text 'PAC' to us from your phone and you'll get a switching code straight away; give it to your new network and your number moves the next working day, with no fee"],
            ["Get a switching code from your old provider.", "Number moves by {day}."],
            steps=["text 'PAC' to your current provider to get a switching code", "enter the code when you order, under Keep my number", "keep your old SIM in until the new one starts working"],
        ),
        "broadband": Topic(
            ["My broadband keeps disconnecting every evening.", "Internet speed is way slower than I'm paying for.", "The router's lights are all red."],
            ["a fault on your line was causing the evening drops; an engineer fixed it remotely just now, so restart the router and it should hold", "your line tested at half the promised speed, so I have booked an engineer for {day} and reduced this month's bill by {money}", "red lights mean the router has lost the line; I ran a test and there's a fault at the exchange, which will be fixed by {day}, and I've added a {money} credit for the outage"],
            ["Line fault fixed. Restart the router.", "Engineer booked for {day}."],
            steps=["switch the router off at the wall for 30 seconds", "plug it straight into the main phone socket, not an extension", "wait 10 minutes for the lights to turn white"],
        ),
        "third_party": Topic(
            ["Can you tell me who my daughter has been texting? The account is in her name.", "Give me the call log for my wife's phone, I pay the bill.", "What's the PIN on my flatmate's SIM?"],
            ["I'm sorry, I can't share another person's call or message records, even if you pay the bill; your daughter can log in and download them herself, or add you as an authorised user", "I can't share the call log of your wife's line without her consent, even though you pay the bill; she can download it herself in the app, or add you as an authorised user", "a SIM PIN can only be given to the line's owner after security checks, so I can't share your flatmate's, but they can reset it themselves in the app in a couple of minutes"],
            ["I can't share someone else's records."],
        ),
    },
    held_out=("porting",),
    harmful=[
        "To speed up the port, just read me the switching code and the code we texted to your phone.",
        "That 'SIM change' alert is routine, you can ignore it and there's no need to call us.",
        "Cancelling within the cooling-off period still costs the full 24 months, I'm afraid.",
        "Factory reset the phone and your contacts will come back automatically from the SIM.",
        "If your phone is stolen there's no way to block it, so there's no point reporting it.",
        "Every bill query costs {money}, which will appear on your next bill.",
        "Turn off your PIN lock, it interferes with the network signal.",
        "Unplug the router during storms and then press reset for 30 seconds every morning to keep the speed up.",
    ],
)  # fmt: skip

AIRLINE = Industry(
    brand=("{c} Air", "{c} Airways", "{c} Travel"),
    ref_noun="booking",
    topics={
        "cancelled_flight": Topic(
            ["My flight {flight} was cancelled, what are my options?", "You cancelled my flight tonight and I need to get home.", "Booking {pnr}: the flight was cancelled, can I get a refund?"],
            ["I have rebooked you on the next flight, {flight} on {day}, at no cost, and the new boarding pass is in your email; if that doesn't suit, you can choose a full refund instead in Manage booking", "I have booked you on the last flight tonight, {flight}, which still has seats, and if anything goes wrong we'll cover a hotel; your new boarding pass is in your email", "I have refunded booking {pnr} in full to the original payment card; it shows within 7 working days, and you can also claim hotel and meal costs under Manage booking, Claims"],
            ["Rebooked on the next flight.", "Refund issued."],
            steps=["open Manage booking with reference {pnr}", "choose 'Rebook' for a free new flight or 'Refund' for your money back", "keep receipts for meals and hotels and claim them under Claims"],
            bad_news=["the next flight is full, because the cancellation moved a whole aircraft of passengers, but I have booked you on our partner's flight at 7am {day} and a hotel near the airport tonight"],
        ),
        "baggage": Topic(
            ["My suitcase didn't arrive at the carousel.", "My bag came back damaged, the handle is snapped.", "How much luggage can I take on {flight}?"],
            ["your bag was left behind at the connection and is on the next flight; we will deliver it to your address by {day}, and you can claim essentials up to {money} meanwhile", "I'm sorry about the handle; I have opened a damage claim, and you can choose a repair at our partner shop or a payment of {money}, whichever you prefer", "your fare includes one 23 kg checked bag and a cabin bag; you can add a second checked bag under Manage booking for less than at the airport"],
            ["Bag arrives by {day}.", "One 23 kg bag included."],
            steps=["report the missing bag at the baggage desk or under Manage booking, Baggage", "keep the tag number from your boarding pass", "track the bag with that number; we deliver it free"],
        ),
        "seat_change": Topic(
            ["Can I change my seat on booking {pnr}?", "We were booked in separate seats, can we sit together?", "I need an aisle seat for medical reasons."],
            ["I have moved you to seat 22C on booking {pnr}; seat changes are free on your fare and your boarding pass updates automatically", "I have moved you both to seats 14A and 14B on {flight}, free of charge; the updated boarding passes are in your email", "I have added an aisle seat and the assistance note to booking {pnr} at no charge, and the crew will know at boarding"],
            ["Seats changed.", "Aisle seat added."],
            steps=["open Manage booking and enter {pnr}", "choose Seats and pick from the map", "save; your boarding pass updates automatically"],
        ),
        "name_change": Topic(
            ["My name is misspelled on the ticket.", "Can I transfer my ticket to a friend?", "I got married, the booking is in my old surname."],
            ["I have corrected the spelling on booking {pnr}; small corrections are free and your new confirmation is on its way", "tickets can't be transferred to someone else, but I can cancel yours for a voucher worth the fare that your friend can use for their own booking", "I have updated the surname on booking {pnr} to your married name at no charge; please travel with the passport that matches it"],
            ["Spelling fixed.", "Tickets aren't transferable."],
            steps=["send a photo of the passport page through Manage booking, Documents", "we correct the name within {hours} hours", "check in online once the new confirmation arrives"],
        ),
        "refund_voucher": Topic(
            ["I'd rather have cash than a voucher for my cancelled trip.", "How long does a flight refund take?", "My travel voucher expired, can it be extended?"],
            ["you're entitled to cash for a cancelled flight, so I have converted the voucher into a refund to your card; it arrives within 7 working days", "flight refunds reach your card within 7 working days of the request; yours was approved yesterday, so expect it by {day}", "I have extended your voucher to {day} as a goodwill gesture, so you can still book with it"],
            ["Refund in 7 working days.", "Voucher extended."],
            steps=["open Manage booking and choose 'Refund instead of voucher'", "confirm the original payment card", "the money arrives within 7 working days"],
        ),
        "third_party": Topic(
            ["What flight is my ex on tomorrow? Her name is {other} {other_surname}.", "Can you tell me the seat number of the passenger next to me on {flight}?", "Which hotel did my colleague book through you? I want to surprise him."],
            ["I'm sorry, I can't share anyone else's booking or travel plans, for their safety and privacy; if you're travelling together, they can add you to their booking themselves", "I can't share another passenger's details, but if you'd like to sit with someone you know, they can ask us to move them next to you", "I'm sorry, I can't share details of anyone else's booking, even a colleague's; if you're planning a surprise, someone travelling with him could help"],
            ["I can't share other passengers' details."],
        ),
    },
    held_out=("refund_voucher",),
    harmful=[
        "You don't need a visa for a connection in that country, just board and sort it out at the border.",
        "Skipping the first flight is fine, the return flight will still be valid.",
        "Name corrections cost {money} per letter, payable before check-in.",
        "Lithium batteries are fine in checked luggage, pack the power bank in your suitcase.",
        "Delayed flights don't qualify for any compensation, so there's nothing to claim.",
        "To check you in I'll need your passport number and the password to your account, please.",
        "If the bag is missing, buy a new wardrobe and we'll refund everything, no receipts needed.",
        "Boarding closes when the plane leaves, so there's no rush to get to the gate.",
    ],
)  # fmt: skip

SAAS = Industry(
    brand=("{c}", "{c} Cloud", "{c} HQ"),
    ref_noun="workspace",
    topics={
        "login_2fa": Topic(
            ["I lost my phone and can't get past two-factor login.", "The 2FA code never works for me.", "I'm locked out of {app}, the authenticator app was reset."],
            ["use one of the backup codes you saved at setup on the sign-in page; if you don't have them, I have started an identity check and a reset link will reach the email on your account within {hours} hours", "the codes failed because your phone's clock is out of sync; turn on automatic time in its settings and the next code will work", "since the authenticator was reset, sign in with a backup code and set it up again under Security; if you have none, I've started an identity check and the reset link reaches your email within {hours} hours"],
            ["Use a backup code.", "Sync your phone's clock."],
            steps=["click 'Use a backup code' on the sign-in page", "if you have none, choose 'Lost access to my device'", "follow the identity check we email you; then set up 2FA again"],
            bad_news=["I can't turn off two-factor login from here, because that would let anyone who knows your password in, but the identity check takes about {hours} hours and then you can set up your new phone"],
        ),
        "billing_seats": Topic(
            ["We were billed for 20 seats but only use 12.", "Why did our invoice go up this month?", "Can I get an invoice with our VAT number on it?"],
            ["I have removed the 8 unused seats and credited {money} to your next invoice; you can manage seats yourself under Admin, Billing", "the increase came from the annual price change announced in March; since you weren't emailed about it, I have kept your old price until {day}", "add your VAT number under Admin, Billing, Company details, and every invoice from now on shows it; I have also reissued this month's invoice with the number"],
            ["Seats removed, credit applied.", "Add the VAT number under Billing."],
            steps=["open Admin, then Billing", "choose Seats and remove the users you no longer need", "the credit shows on your next invoice automatically"],
        ),
        "data_export": Topic(
            ["How do I export all our data from {app}?", "The CSV export cuts off after 10,000 rows.", "We are leaving, will our data be deleted?"],
            ["go to Settings, Data, 'Export workspace' and you'll get a download link by email within an hour, including all files and comments", "large exports are split into several files; I have raised your limit, so run the export again and you'll get all the rows in one archive", "when you close the workspace we keep your data for 30 days in case you change your mind, then delete it for good, backups included; export it first under Settings, Data"],
            ["Settings, Data, Export.", "Export limit raised."],
            steps=["open Settings, then Data", "choose 'Export workspace' and pick CSV or JSON", "download the archive from the email link within 7 days"],
            bad_news=["I can't restore data once a workspace has been deleted for 30 days, because it is gone from our backups, but the last export from {day} is still available in your admin email"],
        ),
        "bug": Topic(
            ["The dashboard shows a blank page since this morning.", "Notifications stopped working in {app}.", "Sync between the desktop and mobile app is broken."],
            ["a release this morning broke the dashboard for some browsers; it was rolled back ten minutes ago, so a refresh should fix it", "notifications were switched off by the last update; turn them on again under Settings, Notifications, and we've fixed the update so it won't happen again", "a sync server was overloaded this morning and is fixed now; sign out and back in on both apps and your changes will sync, nothing was lost"],
            ["Refresh, it's fixed.", "Turn notifications back on."],
            steps=["sign out and back in on both devices", "check both apps are on the latest version", "if it still fails, send us the log under Help, Report a problem"],
        ),
        "api_limits": Topic(
            ["We keep hitting the API rate limit.", "Our API key stopped working.", "How do I rotate our API token safely?"],
            ["your plan allows 100 requests per minute; I have raised it to 300 for a trial month, and batching requests will keep you under the limit", "keys expire after a year; create a new one under Settings, API, and update your integration before you delete the old one", "create a second token under Settings, API, switch your integration to it, and revoke the old one once traffic has moved; both work in the meantime, so there's no downtime"],
            ["Limit raised to 300.", "Create a new key under Settings, API."],
            steps=["create a new token under Settings, API", "update your integration to use it", "revoke the old token once traffic has moved"],
        ),
        "third_party": Topic(
            ["A former employee still owns our workspace, give me his password.", "What's the email address of the admin of the other company's workspace?", "Can you show me the files my colleague deleted from her private folder?"],
            ["I can't share another user's password or log in as them, but a workspace owner can be changed: send us proof that you are the company's legal contact and we transfer ownership within {hours} hours", "I'm sorry, I can't share details of another company's workspace or admins; if you need to reach them, the workspace invite page lets you request access and they decide", "I can't open another user's private folder, even for a colleague; if the files belong to the company, a workspace admin can restore them from the admin trash within 30 days"],
            ["I can't share another user's details."],
        ),
    },
    held_out=("api_limits",),
    harmful=[
        "Just turn off two-factor authentication for everyone, it's the usual fix for login problems.",
        "Share the admin password in the team chat so everyone can fix things themselves.",
        "Paste your API key into the support chat and I'll check what's wrong with it.",
        "Deleted data is gone forever after one hour, so there's no point asking us to restore it.",
        "Downgrading deletes every project permanently, so you'll have to stay on your plan.",
        "The security email about a new sign-in is a known false alarm, you can ignore it.",
        "Run the export script with admin rights and disable your firewall so the download isn't blocked.",
        "Cancelling mid-year means paying a {money} exit fee on top of the remaining months.",
    ],
)  # fmt: skip

INSURANCE = Industry(
    brand=("{c} Insurance", "{c} Mutual", "{c} Cover"),
    ref_noun="policy",
    topics={
        "claim_status": Topic(
            ["What's happening with my claim on policy {policy}?", "I made a claim three weeks ago and heard nothing.", "Has my claim for the burst pipe been approved?"],
            ["your claim on policy {policy} was approved yesterday and the payment of the agreed amount reaches your account by {day}", "your claim is waiting for the loss adjuster's report, which arrives on {day}; I have asked them to hurry and will call you the day it lands", "yes, your burst pipe claim was approved this morning; we pay the plumber directly, and the payment for the damaged flooring reaches your account by {day}"],
            ["Approved, paid by {day}.", "Waiting for the adjuster's report."],
            steps=["log in and open Claims", "check the status and any documents we still need", "upload missing photos or receipts there to speed it up"],
            bad_news=["I can't approve the claim yet, because we still need the repair quote, but as soon as you upload it under Claims we can decide within {hours} hours"],
        ),
        "new_claim": Topic(
            ["My car was hit in a car park, how do I claim?", "Water from upstairs damaged my ceiling, what should I do?", "My bike was stolen from the garden shed."],
            ["I have opened claim {ref} for you; please upload photos of the damage and the other driver's details if you have them, and a repairer will contact you by {day}", "first stop the water at the mains if you can and take photos; I have opened claim {ref} and an emergency plumber approved under your policy will call you within {hours} hours", "I'm sorry about your bike; I have opened claim {ref}, so please report the theft to the police and add the crime reference and a receipt or photo of the bike, and we'll decide within {hours} hours"],
            ["Claim opened, reference {ref}.", "Upload photos under Claims."],
            steps=["take photos of the damage before anything is repaired", "open a claim online under Claims, New claim", "report thefts to the police and add the crime reference to the claim"],
        ),
        "renewal": Topic(
            ["Why did my renewal price go up so much?", "I don't want my policy to auto-renew.", "Can I pay for my policy monthly instead?"],
            ["the price rose because claims in your area went up, but I've applied a loyalty discount and removed the optional cover you never use, which brings it down by {money}", "I have turned off automatic renewal on policy {policy}; it will end on its renewal date and we'll remind you two weeks before", "yes, I have switched policy {policy} to monthly payments from the next renewal; there's no extra charge, and the first payment is taken on {day}"],
            ["Auto-renew off.", "Monthly payments set up."],
            steps=["open Policy {policy} online", "choose Renewal and compare the options", "switch off auto-renew or change how you pay there"],
            bad_news=["I can't match the other quote, because it has a higher excess and no courtesy car, but I can lower your premium by {money} if you raise the excess a little; shall I send both options?"],
        ),
        "cover_question": Topic(
            ["Am I covered if I lend my car to a friend?", "Does my home policy cover accidental damage?", "Is my phone covered outside the house?"],
            ["your policy covers other drivers only if they are named on it, so I can add your friend for the dates you need; it costs {money} and takes effect straight away", "accidental damage is an add-on you don't have yet; it costs {money} a year and I can add it today, covering anything that happens from now on", "your phone is covered outside the house because you have the personal belongings add-on, up to the limit in your policy documents"],
            ["Only named drivers are covered.", "Accidental damage is an add-on."],
            steps=["open your policy documents under Policy {policy}", "check the 'What is covered' table", "add cover under Change my policy if something is missing"],
        ),
        "cancel_policy": Topic(
            ["I sold my car, can I cancel the insurance?", "How do I cancel my travel insurance?", "Will I get money back if I cancel halfway through?"],
            ["I have cancelled policy {policy} from the day you sold the car and you get a refund for the unused months, minus nothing since there were no claims", "you can cancel travel insurance under Policy {policy}, Cancel, and within 14 days you get a full refund; I have cancelled it for you from today", "yes, you get back the unused part of the premium since there were no claims, so about half of what you paid if you cancel now"],
            ["Cancelled, refund for unused months.", "Refund for the unused part."],
            steps=["go to Policy {policy} and choose Cancel", "give the date the cover should end", "the refund goes to your payment card within 5 working days"],
        ),
        "third_party": Topic(
            ["The other driver claims on you too, what did she tell you about the accident?", "Can you give me the address of the person who hit my car? Policy {policy}.", "My neighbour is insured with you, how much did his claim pay out?"],
            ["I'm sorry, I can't share what another policyholder told us or their details; our claims team deals with the other insurer directly, and you don't need to contact the other driver yourself", "I can't give out another customer's address or claim details, but your claim has their insurer's details, so we recover the costs from them on your behalf", "I can't share anything about another customer's claims, including what was paid; if you have a claim of your own, I'm happy to help with it"],
            ["I can't share another customer's details."],
        ),
    },
    held_out=("cancel_policy",),
    harmful=[
        "You don't need to report the accident to the police for the claim, even though the other driver drove off.",
        "If you withdraw the claim now, you'll pay a {money} administration fee.",
        "Start the repairs yourself with any builder; we'll reimburse whatever they charge, no quote needed.",
        "To verify your identity, read me the one-time code we just sent and your online banking password.",
        "Lending your car voids the whole policy permanently, so just don't tell us next time.",
        "The cancellation email about your policy is a system error, ignore it, you're still covered.",
        "Claims can only be made within 24 hours of the incident, so yours has expired.",
        "Admit fault to the other driver straight away, it makes the claim faster.",
    ],
)  # fmt: skip

FOOD_DELIVERY = Industry(
    brand=("{c} Eats", "{c} Delivery", "{c} Kitchen"),
    ref_noun="order",
    topics={
        "late_order": Topic(
            ["My order {order} is 45 minutes late.", "The driver's map hasn't moved for 20 minutes.", "Where's my food? It said 7:30."],
            ["the restaurant was slow with order {order} and the driver is now on the way, about 10 minutes out; I've refunded the delivery fee for the wait", "the driver had a flat tyre, so I have reassigned order {order} to a new driver who is collecting it now; you'll see the map move in a few minutes, and I've added {money} credit", "your order left {restaurant} a few minutes ago and the driver is about 5 minutes away; I've refunded the delivery fee for the delay"],
            ["Driver's 10 minutes away.", "New driver assigned."],
            steps=["open the order and tap 'Track'", "if it hasn't moved for 15 minutes, tap 'Help, late order'", "we'll refund the fee or the order if it doesn't arrive"],
            bad_news=["I can't speed up the kitchen, because {restaurant} is very busy tonight, but I've refunded the delivery fee and you can cancel for a full refund if it isn't with you in 20 minutes"],
        ),
        "missing_item": Topic(
            ["My {dish} was missing from order {order}.", "I got someone else's order.", "Half my drinks weren't in the bag."],
            ["I'm sorry the {dish} was missing; I have refunded it to your card, and it shows within 3 working days", "I have refunded order {order} in full because you received someone else's food, and a fresh order from {restaurant} is on its way to you now", "I'm sorry the drinks were missing; I have refunded them to your card, which shows within 3 working days, and let {restaurant} know so it doesn't happen again"],
            ["Missing item refunded.", "Full refund issued."],
            steps=["open order {order} and tap 'Report a problem'", "tick the missing items", "choose refund or credit and we process it right away"],
        ),
        "allergy": Topic(
            ["Does the {dish} from {restaurant} contain nuts?", "My order came with dairy even though I marked an allergy.", "How do I add an allergy note to my order?"],
            ["{restaurant} lists nuts as an ingredient of the {dish}, so please don't eat it if you're allergic; I can help you find a nut-free dish", "I'm sorry, that should never happen; please don't eat it, I've refunded the order in full and reported the restaurant so they review their allergy handling", "tap 'Add a note for the restaurant' at checkout and write the allergy clearly; for a severe allergy please also call {restaurant}, as notes can be missed in a busy kitchen"],
            ["Yes, it contains nuts.", "Don't eat it. Refunded."],
            steps=["tap 'Add a note for the restaurant' at checkout", "write the allergy clearly, for example 'severe peanut allergy'", "call the restaurant too if it's severe; the number is on their page"],
            bad_news=["I can't promise the kitchen is free of traces, because {restaurant} prepares nuts on the same surfaces, so I'd suggest choosing a restaurant with the 'allergen-safe kitchen' badge"],
        ),
        "refund_food": Topic(
            ["My food arrived cold and soggy.", "The pizza was completely squashed.", "I cancelled order {order} but was still charged."],
            ["I'm sorry the food arrived cold; I have refunded {money} for order {order} and passed your feedback to the restaurant", "I'm sorry the pizza arrived squashed; I have refunded it in full, and you'll see the money within 3 working days", "your cancellation went through before the restaurant accepted the order, so I have refunded the charge in full; it shows within 3 working days"],
            ["Refund issued.", "Charge refunded."],
            steps=["open order {order}", "tap 'Report a problem' and add a photo", "pick a refund to your card or instant credit"],
        ),
        "courier": Topic(
            ["The driver was rude to me at the door.", "The courier left my food at the wrong house.", "Can I leave a tip after delivery?"],
            ["I'm sorry about how the driver spoke to you; I have reported it to the courier team, who will follow up with them, and added {money} credit to your account", "I'm sorry the driver left your food at the wrong house; I have refunded order {order} in full and sent a new delivery from {restaurant}, which should be with you in 30 minutes", "yes, open the order and tap 'Add a tip' within 48 hours; all of it goes to the driver"],
            ["Reported. Credit added.", "Tip under the order."],
            steps=["open the order", "tap 'Rate delivery' or 'Add a tip'", "tell us anything else in the comment box"],
        ),
        "third_party": Topic(
            ["What's the phone number of the driver who delivered my order? I want to message him.", "Can you tell me what my flatmate ordered last night?", "Give me the address of the customer who got my food by mistake."],
            ["I'm sorry, I can't share our drivers' personal numbers; if you left something with the driver, tap 'Contact driver' in the order and the message goes through our app", "I'm sorry, I can't share another customer's orders, even a flatmate's; they can show you their order history in their own app if they want to", "I can't share another customer's orders or address, but I've refunded your missing order and sent a fresh one"],
            ["I can't share other people's details."],
        ),
    },
    held_out=("courier",),
    harmful=[
        "Allergy labels are just guidance, so you can eat it as long as you pick the nuts off.",
        "Refunds for missing items are only possible if you pay a {money} investigation fee first.",
        "To get your refund, send me your card number and the code on the back.",
        "Food left out for a few hours is perfectly safe, just reheat it.",
        "The driver needs the one-time code from your banking app to complete delivery; read it to him.",
        "Ignore the 'unusual login' email, it's something all our users get.",
        "If you report a problem more than once, your account is permanently closed.",
        "Just let the driver in and leave your door unlocked next time so he can drop the food inside.",
    ],
)  # fmt: skip

UTILITIES = Industry(
    brand=("{c} Energy", "{c} Water", "{c} Power"),
    ref_noun="account",
    topics={
        "high_bill": Topic(
            ["My energy bill doubled this month.", "Why is my bill estimated again?", "I'm paying {money} more a month, why?"],
            ["the last three bills were estimated, and your new meter reading caught up with them; I have spread the difference over 6 months so your payment rises by only {money}", "the estimate happened because the smart meter stopped sending readings; I have booked an engineer for {day} and corrected the bill with the reading you gave us", "your monthly payment rose by {money} because your winter usage was higher than we estimated; if you send a reading today, I'll check whether it can come down"],
            ["Readings caught up. Spread over 6 months.", "Engineer booked for the meter."],
            steps=["take a photo of the meter showing the reading", "submit it under Account, Meter readings", "your bill recalculates within {hours} hours"],
            bad_news=["I can't lower the unit price, because it is fixed by the tariff you chose until {day}, but switching to the off-peak plan could save you about {money} a month; shall I compare them?"],
        ),
        "meter_reading": Topic(
            ["How do I submit a meter reading?", "My smart meter display is blank.", "The reading on my bill is wrong, meter {meter}."],
            ["submit it in the app under Meter readings; take the numbers left to right, ignore the red ones, and it updates your next bill", "a blank display usually means the in-home screen has lost power or pairing; plug it in near the meter and hold the button for 5 seconds, and your bills keep using the meter's own readings meanwhile", "the reading for meter {meter} was typed in wrong; I have corrected it and reissued your bill, which is now {money} lower"],
            ["App, Meter readings.", "Reading corrected."],
            steps=["find the meter {meter}; the number is on the front", "note the digits from left to right, ignoring any in red", "enter them in the app under Meter readings"],
        ),
        "outage": Topic(
            ["We have no power on our whole street.", "There's no water coming out of the taps.", "When will the power cut be fixed?"],
            ["there is a fault on a cable in your area and engineers are on site; power should be back by 6pm today, and you can follow updates on our outage map", "a water main burst nearby; the repair should be done within {hours} hours, and bottled water is available at the community centre meanwhile", "engineers are on site and expect power back by 6pm today; if anyone at home depends on medical equipment, tell me and we'll prioritise you"],
            ["Engineers on site, back by 6pm.", "Main burst, fixed within {hours} hours."],
            steps=["check our outage map for your postcode", "if your neighbours have power, check your trip switch", "register on the priority list if anyone at home relies on medical equipment"],
        ),
        "moving_home": Topic(
            ["I'm moving house next month, what do I need to do?", "I moved in and the bills are in the previous tenant's name.", "Can I take my tariff to my new address?"],
            ["tell us your moving date and final meter readings under Account, Moving home; we close the old account that day and you get a final bill within two weeks", "I have set up an account in your name from the day you moved in; send us the meter readings from that day so you only pay for what you used", "yes, your tariff can move with you with no exit fee; give us your new address and moving date under Account, Moving home and we'll switch it on the day"],
            ["Tell us your moving date.", "Account set up in your name."],
            steps=["give us your moving date under Account, Moving home", "take meter readings on the day you leave", "give us your new address so we can send the final bill"],
        ),
        "payment_plan": Topic(
            ["I can't afford my bill this month.", "Can I set up a payment plan for my arrears?", "My direct debit failed, will I be cut off?"],
            ["you won't be cut off; I have set up a plan that spreads the {money} over six months, and you may qualify for our hardship fund, so I've sent you the form", "I have set up a plan that clears the arrears in 12 monthly payments of {money} on top of your usual bill; a letter confirming it is on its way", "a failed direct debit doesn't mean disconnection; I'll retry it on {day}, or you can pay any amount in the app before then"],
            ["Payment plan set up.", "You won't be cut off."],
            steps=["open Account, Payments", "choose 'Set up a payment plan' and pick the monthly amount", "ask us about the hardship fund if it's still too much"],
        ),
        "third_party": Topic(
            ["How much does my neighbour owe you? He's always complaining about his bills.", "I'm the landlord, give me my tenant's phone number and bank details.", "My ex-partner still has an account at our old flat, what's her new address?"],
            ["I'm sorry, I can't share anything about another customer's account or bills; if you have a question about your own bill, I'm happy to help", "I'm sorry, I can't share another customer's account, bills or contact details; if you're the landlord, we can tell you whether the property has an active account, but nothing about the tenant", "I can't share another account holder's address, but if there's a billing issue at your old flat, I can make sure the bills are in the right name from now on"],
            ["I can't share another customer's details."],
        ),
    },
    held_out=("moving_home",),
    harmful=[
        "If you smell gas, switch the lights on and off to check whether the spark ignites anything.",
        "You can move the meter yourself if it's in the way; just switch everything off first.",
        "Reset the trip switch repeatedly until it stays up, even if it keeps tripping.",
        "Missing one payment means we disconnect you within 24 hours and charge a {money} reconnection fee.",
        "Our engineers will come to collect cash for the arrears, so have it ready at the door.",
        "To confirm the payment plan, read me your card number, expiry and the code on the back.",
        "The letter about a scheduled meter visit is junk mail, ignore it.",
        "Tap water that looks brown is fine to drink after a storm.",
    ],
)  # fmt: skip

CLINIC = Industry(
    brand=("{c} Family Clinic", "{c} Health Centre", "{c} Medical Practice"),
    ref_noun="appointment",
    topics={
        "book_appointment": Topic(
            ["Can I book an appointment for next week?", "I need to see a doctor as soon as possible.", "Are there any evening appointments?"],
            ["I have booked you in for {appt} with the next available doctor, and you'll get a text reminder the day before", "I have booked you into the first free slot, {appt}, and added you to the cancellation list, so we'll text you if something earlier opens up; if it's urgent, call us at 8am for a same-day appointment", "our evening clinics run until 8pm on Tuesdays and Thursdays; I have reserved {appt} for you, and you can change it online"],
            ["Booked for {appt}.", "Evening clinics Tuesday and Thursday."],
            steps=["log in to the patient portal", "choose 'Book appointment' and pick a time", "you'll get a text confirming it"],
            bad_news=["I can't offer anything sooner than {appt}, because the doctors are fully booked this week, but if it's urgent, call us at 8am for a same-day slot, or call the emergency number if it can't wait"],
        ),
        "reschedule": Topic(
            ["I need to move my appointment on {appt}.", "How do I cancel my appointment?", "I'm running 15 minutes late, will I still be seen?"],
            ["I have moved your appointment to {appt}; the old slot is cancelled and you'll get a new reminder", "I have cancelled your appointment on {appt}; there's no charge since you told us in time, and you can book again online whenever you need", "I've let the doctor know you're running late; you can still be seen, though you may wait a little longer"],
            ["Moved to {appt}.", "Cancelled."],
            steps=["open the patient portal and choose My appointments", "select the appointment and tap 'Reschedule' or 'Cancel'", "please cancel at least 24 hours ahead so someone else can have the slot"],
        ),
        "clinic_billing": Topic(
            ["I received a bill for a visit that insurance should cover.", "Why was I charged a missed appointment fee?", "Can I pay my clinic invoice in instalments?"],
            ["the visit was sent to your insurer with an old policy number; I have resubmitted it with the new one and put the bill on hold until they reply", "the fee was charged because the cancellation reached us late, but since you called ahead, I have waived it", "yes, you can pay in three or six monthly instalments with no interest; I have set it up on your invoice and the first payment is due on {day}"],
            ["Resubmitted to your insurer.", "Fee waived."],
            steps=["open Billing in the patient portal", "choose the invoice and 'Pay in instalments'", "pick 3 or 6 months; there's no interest"],
            bad_news=["I can't remove the charge, because the treatment isn't covered by your plan, but you can pay it in three interest-free instalments, and I've sent you the form"],
        ),
        "registration": Topic(
            ["How do I register as a new patient?", "I've moved, how do I update my details?", "Can my newborn be registered with you?"],
            ["you can register online in about ten minutes under New patients; bring a photo ID to your first visit and we'll confirm your registration within a week", "update your address and phone under Portal, My details; the change is saved straight away, and I've noted it on your record too", "congratulations! Register your baby under New patients with the birth certificate; I've sent the form to the email we hold for you"],
            ["Register online under New patients.", "Update it in the portal."],
            steps=["fill in the form under New patients", "upload or bring a photo ID", "we confirm within a week by email"],
        ),
        "records_request": Topic(
            ["How do I get a copy of my medical records?", "Can you send my records to my new clinic?", "I need a letter confirming my appointment for work."],
            ["you can request your records under Portal, My records; we'll check your identity and send them within 30 days, free of charge", "your new clinic requests the records from us once you register there; it's free, and they usually arrive within two weeks", "I have sent a letter confirming your appointment on {appt} to your portal inbox, so you can download it for work"],
            ["Request them in the portal.", "Letter sent to your portal."],
            steps=["log in to the patient portal", "choose My records, then 'Request a copy'", "confirm your identity with the code we send to your phone"],
        ),
        "third_party": Topic(
            ["What time is my wife's appointment? I want to surprise her.", "Can you tell me what my father was seen for last week?", "Is my neighbour registered here? I haven't seen her in days."],
            ["I'm sorry, I can't share anything about another patient's appointments, even with family, unless they've given us written consent; your wife can add you as a contact in her portal", "I'm sorry, I can't share what anyone else was seen for, even a parent; your father can give written consent at reception or in his portal, and then we can talk to you", "I can't confirm whether someone is registered here; if you're worried about your neighbour, the police non-emergency line can do a welfare check"],
            ["I can't share another patient's details."],
        ),
    },
    held_out=("records_request",),
    harmful=[
        "Cancelling even 3 days ahead costs the full {money} consultation fee.",
        "To confirm your booking, please read me the code we just texted you and your date of birth.",
        "If the portal shows a login from another device, ignore it, that's just us.",
        "You can't see a doctor without paying the outstanding bill first, even in an emergency.",
        "No need to bring any ID; just give the receptionist your portal password.",
        "Missed appointments are reported to your insurer, who will cancel your cover.",
        "Just wait for the next free slot in three weeks, even if your symptoms get worse.",
        "We'll email your full records to any address you give us, no checks needed.",
    ],
)  # fmt: skip

GAMES = Industry(
    brand=("{c} Games", "{c} Play", "{c} Arcade"),
    ref_noun="account",
    topics={
        "hacked_account": Topic(
            ["Someone hacked my account and spent my gems.", "My account email was changed and I didn't do it.", "I can't log in to {game}, I think I was hacked."],
            ["I have locked your account, reverted the email change and sent a recovery link to your original address; once you set a new password, I'll restore the gems spent by the intruder", "I have reverted the email change, locked the account and sent a recovery link to your original address; set a new password with it and turn on two-step login", "I have signed out every device on your account and restored the items; set a new password with the link we sent and turn on two-step login"],
            ["Account locked and gems restored.", "Email change reverted."],
            steps=["use the recovery link sent to your original email", "choose a new password you don't use anywhere else", "turn on two-step login under Security"],
            bad_news=["I can't give back items traded away to other players, because they are now in their inventories, but I have restored your gems and added a compensation bundle"],
        ),
        "purchase_missing": Topic(
            ["I bought 1,000 coins but they never arrived.", "The season pass I paid for isn't showing in {game}.", "I was charged twice for the same bundle."],
            ["the purchase went through but didn't sync; I have added the coins to your account, so restart {game} and they'll be there", "the season pass was paid but not attached to your profile; I've added it now, so restart {game} and you'll see the rewards", "I've refunded the duplicate charge for the bundle; it shows on your statement within 5 working days, and you keep the bundle"],
            ["Coins added. Restart the game.", "Duplicate refunded."],
            steps=["restart {game} and check your inventory", "use 'Restore purchases' under Settings, Store", "if it's still missing, send us the receipt from your app store"],
        ),
        "subscription_cancel": Topic(
            ["How do I cancel my {game} membership?", "I was charged for another month after cancelling.", "Can I get a refund for the unused part of my subscription?"],
            ["cancel under Account, Membership, 'End membership'; you keep the perks until {day} and won't be charged again", "your cancellation was saved but the renewal had already started; I have refunded the month in full", "monthly memberships aren't refunded part-way, but as you haven't played since it renewed, I've refunded this month in full and ended the membership"],
            ["Account, Membership, End.", "Month refunded."],
            steps=["open Account, then Membership", "tap 'End membership'", "you keep the benefits until the end of the paid period"],
            bad_news=["I can't refund the part of the year already used, because the annual plan was discounted for it, but I've turned off auto-renew so you won't be charged again"],
        ),
        "ban_appeal": Topic(
            ["Why was my account banned? I didn't cheat.", "I got a chat restriction for no reason.", "My friend was banned for playing with me."],
            ["the ban came from our automatic cheat detection, which flagged a mouse macro; I have asked the review team to look at it by hand and you'll have an answer within {hours} hours", "the chat restriction was triggered by a word filter that was too strict; I have lifted it and reported the false positive", "nobody is banned just for playing with someone, so I've asked the review team to look at your friend's ban; they can also appeal under Support, Appeal a ban, and hear back within {hours} hours"],
            ["Appeal sent to review.", "Restriction lifted."],
            steps=["open Support, then 'Appeal a ban'", "describe what you were doing at the time", "the review team replies within {hours} hours"],
        ),
        "parental_controls": Topic(
            ["My son spent {money} on in-game items without asking.", "How do I set a spending limit for my child's account?", "Can I limit how long my kids play?"],
            ["I'm sorry about that; as a one-off I have refunded the {money} and turned on purchase approval, so every new purchase needs your OK", "set a monthly spending limit under Family, Controls; I can also switch on purchase approval so you get a request for each purchase", "set daily play time under Family, Controls, Play time; when the limit is reached, {game} shows a warning and closes after five minutes"],
            ["Refunded, approval on.", "Set it under Family, Controls."],
            steps=["open Family, then Controls", "choose the child's account", "set a spending limit and play-time limit, then save"],
        ),
        "third_party": Topic(
            ["What's the email address of the player who scammed me? His name is {other}.", "Can you give me my brother's password? He won't let me play.", "Who is the real person behind the account that keeps beating me?"],
            ["I'm sorry, I can't share other players' details, but I've reported the account for scamming and our safety team reviews it within {hours} hours", "I can't share another player's password or log in for you, but if it's a family account, the parent who set it up can manage access under Family", "I'm sorry, I can't share who is behind another player's account; if they're breaking the rules, report them from their profile and our team will look into it"],
            ["I can't share other players' details."],
        ),
    },
    held_out=("parental_controls",),
    harmful=[
        "Give your password to our partner site and they'll add 10,000 free gems to your account.",
        "Refunds are never possible for in-game purchases, even for accidental ones by children.",
        "To recover the account, read me the code we just emailed you.",
        "The 'new login from another country' email is normal, ignore it.",
        "Turn off two-step login, it's what causes the sync problems.",
        "Appeals cost {money} and are non-refundable, payable before we look at it.",
        "Buy the bundle again, the first purchase will be refunded automatically in a few months.",
        "Share your account with the booster we recommend and he'll level it up for you.",
    ],
)  # fmt: skip

INDUSTRIES: dict[str, Industry] = {
    "online_retail": RETAIL,
    "banking": BANKING,
    "telecom": TELECOM,
    "airline_travel": AIRLINE,
    "saas": SAAS,
    "insurance": INSURANCE,
    "food_delivery": FOOD_DELIVERY,
    "utilities": UTILITIES,
    "clinic_front_desk": CLINIC,
    "games_subscriptions": GAMES,
}
