"""Sales text for the demo CRM: notes, activity summaries, deal and task titles.

Only data. The fragments carry the details that make a client base worth stealing
(budgets, renewal dates, competitors, decision makers), so that leak detectors, masks
and exports are exercised on text that looks like what a departing manager would take.
Placeholders in braces are filled by the generators: ``{product}``, ``{competitor}``,
``{month}``, ``{amount}``, ``{first}`` (the contact's first name), ``{company}``.
"""

from __future__ import annotations

PRODUCTS: tuple[str, ...] = (
    "CRM Cloud",
    "Analytics Suite",
    "Field Service",
    "Support Desk",
    "Marketing Hub",
    "Data Connector",
    "Mobile Sales",
    "Enterprise licence",
    "Premium support",
    "Onboarding package",
    "Integration services",
    "Training days",
)

COMPETITORS: tuple[str, ...] = (
    "Brightdesk",
    "SalesNimbus",
    "Kundenwerk",
    "OrbitCRM",
    "Pipewise",
    "ClientHive",
)

MONTHS: tuple[str, ...] = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

AMOUNTS: tuple[str, ...] = ("15k", "25k", "40k", "60k", "80k", "120k", "250k")

#: Contact notes: one or two of these, or nothing (many contacts have no notes).
NOTES: tuple[str, ...] = (
    "Decision maker for the {product} budget; prefers calls before 10:00.",
    "Met at the trade fair. Interested in {product}, asked for a reference customer.",
    "Currently with {competitor}, contract ends in {month}. Unhappy with their support.",
    "Budget approx. {amount} for next year, sign-off needs the CFO.",
    "Renewal due in {month}; wants a multi-year discount.",
    "Prefers e-mail. Assistant handles the calendar.",
    "Key account: do not change pricing without the sales manager.",
    "Introduced by a partner; warm lead. Follow up after the board meeting in {month}.",
    "Complained about invoice errors last quarter, resolved. Keep an eye on it.",
    "Evaluating {product} and {competitor} side by side; sensitive to price.",
    "Champion inside the account, moving to a new role in {month}.",
    "Asked for a pilot with 20 users before committing to {amount}.",
    "Speaks German and English. Visits the office twice a year.",
    "Procurement requires three quotes; we are the incumbent.",
)

#: Activity summaries per kind (keys match crm_models.ACTIVITY_KINDS).
ACTIVITY_SUMMARIES: dict[str, tuple[str, ...]] = {
    "call": (
        "Intro call with {first}: current tools, pain points, timeline.",
        "Follow-up call, {first} confirmed budget of {amount}.",
        "Call about the {product} renewal; asked for a revised quote.",
        "Left a voicemail, will try again next week.",
        "Discussed contract terms; legal review pending.",
        "{first} mentioned {competitor} offered a lower price.",
    ),
    "meeting": (
        "Demo of {product} for {first} and two colleagues.",
        "On-site visit at {company}: workshop on requirements.",
        "Quarterly business review with {first}.",
        "Negotiation meeting: discount and payment terms.",
        "Lunch with {first}; expansion to a second site planned for {month}.",
    ),
    "email": (
        "Sent proposal for {product} ({amount}).",
        "Sent case study and pricing sheet to {first}.",
        "Reminder about the open quote; no answer yet.",
        "Shared the onboarding plan and contact list for the rollout.",
        "Confirmed meeting date and agenda.",
    ),
    "note": (
        "Account looks at risk: usage dropped, {competitor} is talking to them.",
        "Internal: needs approval for a discount above 15%.",
        "Upsell opportunity: {product}.",
        "{first} is the new main contact at {company}.",
        "Updated billing address and VAT number.",
    ),
}

DEAL_TITLES: tuple[str, ...] = (
    "{product} for {company}",
    "{company}: {product} renewal",
    "{company}: {product} expansion",
    "{product} pilot at {company}",
)

#: Task titles by the kind of record they relate to.
TASK_TITLES: dict[str, tuple[str, ...]] = {
    "contact": (
        "Call back {first}",
        "Send follow-up e-mail to {first}",
        "Update contact details",
        "Invite {first} to the webinar",
    ),
    "deal": (
        "Prepare quote",
        "Get discount approval",
        "Send contract for signature",
        "Schedule negotiation meeting",
        "Chase the purchase order",
    ),
    "company": (
        "Quarterly account review",
        "Check open invoices",
        "Map the decision makers",
        "Plan renewal strategy",
    ),
}

#: Titles for tasks that land with the support team.
SUPPORT_TASK_TITLES: tuple[str, ...] = (
    "Resolve login problem for {first}",
    "Answer data export question from {first}",
    "Fix duplicate contact records",
    "Reset integration credentials",
)
