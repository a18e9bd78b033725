"""Deterministic, persona-flavoured interview answers built from a request's own text.

The system prompt our default template renders carries lines such as `- Name: Maria Lopez`,
`- Age: 67`, `- Conditions: Type 2 diabetes (diagnosed 2019, active); …`. They are read
tolerantly (any system text, or none, works); the answer speaks as that person, addresses the
question's topic, and varies by a hash of (custom_id, question): the same request always gets
the same answer, so demo output reads like an interview and tests stay deterministic.

Real-time calls carry no custom_id; `conversation_seed` derives a stand-in from the
conversation itself (see there), and the answer still addresses the last user question.
"""

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from interviews.emulator.ids import seeded_rng, stable_token

# "- Key: value" with a capitalised key of one or more words; the bullet is optional.
_FIELD_LINE = re.compile(r"^\s*(?:[-*•]\s*)?([A-Z][A-Za-z]*(?: [A-Za-z]+){0,3})\s*:\s*(.+?)\s*$")
_YOU_ARE = re.compile(r"\b(?i:you are) ([A-Z][a-z]+(?: [A-Z][a-z]+)?)")
_YEARS_OLD = re.compile(r"\b(\d{1,3})[- ]years?[- ]old\b")
_NONE_VALUES = {"", "none", "none known", "n/a", "na", "no", "nil", "unknown", "nkda"}

_KEYS = {
    "name": ("name", "full name", "persona name"),
    "age": ("age",),
    "occupation": ("occupation", "job", "profession", "work"),
    "conditions": ("conditions", "condition", "diagnoses", "medical conditions",
                   "chronic conditions", "health conditions"),
    "medications": ("medications", "medication", "current medications", "medicines"),
    "allergies": ("allergies", "allergy"),
}  # fmt: skip


@dataclass(frozen=True)
class Persona:
    """What the answer can draw on; every field may be missing."""

    name: str | None = None
    age: str | None = None
    occupation: str | None = None
    conditions: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)


def approx_tokens(text: str) -> int:
    """The emulator's token estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


def conversation_seed(system: str, turns: Iterable[tuple[str, str]]) -> str:
    """The stand-in for a custom_id in a real-time call: a digest of the whole conversation.

    `turns` are (role, text) pairs in order. Roles are normalised (`user`, or `assistant` for
    any other role, such as Gemini's `model`) and texts are the plain text every provider
    module extracts the same way, so one conversation gets one seed, hence one answer, on
    every provider and every call; a conversation that goes on with a new question is new
    content, hence a fresh seed. The seed varies only the wording: the topic comes from the
    last user question, the persona from `system` (see `compose_answer`).
    """
    parts = [f"{'user' if role == 'user' else 'assistant'}:{text}" for role, text in turns]
    return "rt_" + stable_token(24, "realtime", system, *parts)


# A persona's system prompt repeats for each of its questions, so parsing is cached; callers
# never mutate the returned Persona.
@functools.lru_cache(maxsize=4096)
def parse_persona(system: str) -> Persona:
    """Pull name, age, occupation and the health record out of free system-prompt text."""
    found: dict[str, str] = {}
    for line in system.splitlines():
        match = _FIELD_LINE.match(line)
        if not match:
            continue
        key = match.group(1).lower()
        for target, aliases in _KEYS.items():
            if key in aliases and target not in found:
                found[target] = match.group(2)
    if "name" not in found and (you_are := _YOU_ARE.search(system)):
        found["name"] = you_are.group(1)
    if "age" not in found and (years := _YEARS_OLD.search(system)):
        found["age"] = years.group(1)
    age = re.search(r"\d{1,3}", found.get("age", ""))
    return Persona(
        name=_clean(found.get("name")),
        age=age.group(0) if age else None,
        occupation=_clean(found.get("occupation")),
        conditions=_items(found.get("conditions")),
        medications=_items(found.get("medications")),
        allergies=_items(found.get("allergies")),
    )


def _clean(value: str | None) -> str | None:
    value = (value or "").strip().rstrip(".")
    return None if value.lower() in _NONE_VALUES else value


def _items(value: str | None) -> list[str]:
    """`A (details); B (details)` → `["A", "B"]`, dropping "None" and the like."""
    items = []
    for part in re.split(r";|\|", value or ""):
        # the name is everything before the first "(": details may nest parentheses
        item = _clean(part.split("(", 1)[0])
        if item:
            items.append(item)
    return items


def _mid_sentence(text: str) -> str:
    """Lower-case a leading capital unless it starts an acronym ("Hypertension", not "COPD")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _join(items: list[str]) -> str:
    items = [_mid_sentence(item) for item in items[:2]]
    return " and ".join(items)


# Topic → (keywords, what the person calls it, sentences answering it).
_TOPICS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "medication": (
        ("medication", "medicine", "pill", "prescription", "drug", "dose", "side effect",
         "insulin", "refill", "tablet"),
        "my medications",
        ("Keeping the doses straight took me a while, but a weekly pill box changed everything.",
         "I did have some side effects at first, and my pharmacist helped me time things better.",
         "The hardest part is remembering the evening dose when my day gets busy.",
         "I always ask what a new prescription is for before I start it."),
    ),
    "feeling": (
        ("feel", "feeling", "symptom", "pain", "health", "better", "worse", "since"),
        "how I've been feeling",
        ("Most days I feel steady, though I notice it more when the weather turns.",
         "Some mornings start slow, but by midday I usually feel like myself again.",
         "I'd say I'm a little better than last year, mostly because I pay more attention.",
         "When something feels off I write it down so I remember to mention it."),
    ),
    "diet": (
        ("diet", "eat", "food", "meal", "nutrition", "sugar", "cook", "salt", "drink"),
        "what I eat",
        ("I cook most meals at home now and keep an eye on sugar and salt.",
         "Cutting back on bread and sweets was hard, but I've found food I enjoy.",
         "I still treat myself on Sundays; I just plan the rest of the week around it.",
         "Reading labels at the store has become a habit."),
    ),
    "exercise": (
        ("exercise", "active", "walk", "activity", "physical", "gym", "sport", "move", "fitness"),
        "staying active",
        ("I try to walk for half an hour most mornings, weather permitting.",
         "I'm not one for gyms, but gardening and walking keep me moving.",
         "On bad days I do a few stretches at home rather than skip it entirely.",
         "Moving a little every day helps me more than any big effort once a week."),
    ),
    "sleep": (
        ("sleep", "tired", "rest", "fatigue", "insomnia", "night", "energy"),
        "my sleep",
        ("I usually wake up once or twice a night, but I fall back asleep fairly easily.",
         "Going to bed at the same time every night has helped more than I expected.",
         "When I'm tired in the afternoon I take a short rest instead of pushing through.",
         "I stopped having coffee after lunch, and my nights got better."),
    ),
    "mood": (
        ("stress", "mood", "anxious", "anxiety", "depress", "worry", "mental", "cope", "coping",
         "emotion", "feel down", "lonely"),
        "my mood and stress",
        ("I do worry about the future sometimes, and talking it through helps.",
         "Keeping a routine gives me a sense of control when things feel heavy.",
         "I've learned to notice when I'm getting anxious and to slow down.",
         "Some weeks are harder than others, and I've stopped pretending otherwise."),
    ),
    "care": (
        ("doctor", "appointment", "visit", "clinic", "nurse", "care team", "hospital",
         "provider", "check-up", "checkup", "specialist"),
        "my visits with the care team",
        ("My doctor listens, though the appointments always feel too short.",
         "I bring a written list of questions to every visit so I don't forget anything.",
         "Getting an appointment quickly is the part I find most frustrating.",
         "The nurse who calls between visits has been a real help."),
    ),
    "cost": (
        ("cost", "afford", "insurance", "pay", "price", "money", "expensive", "pharmacy",
         "coverage"),
        "the cost of my care",
        ("The cost of prescriptions adds up, so I compare prices at different pharmacies.",
         "My insurance covers most things, but the copays still sting every month.",
         "There was a time I skipped a refill because of money, and I regret it.",
         "I've asked my doctor about generic options, which helped a lot."),
    ),
    "support": (
        ("family", "support", "friend", "caregiver", "help", "alone", "partner", "children",
         "community"),
        "the support around me",
        ("My family checks in on me, and that makes a real difference.",
         "A neighbour drives me to appointments when I can't manage on my own.",
         "I don't like asking for help, but I'm getting better at it.",
         "Talking with others who have the same condition reminds me I'm not alone."),
    ),
    "routine": (
        ("work", "job", "daily", "routine", "day", "week", "hobby", "life"),
        "my daily routine",
        ("My days have a rhythm now: medication, breakfast, a walk, then whatever comes.",
         "I plan my week around appointments and the things I enjoy.",
         "Little habits, like a glass of water first thing, keep me on track.",
         "I keep a calendar on the fridge so nothing slips through the cracks."),
    ),
}  # fmt: skip
# Keywords match at word starts, so "eat" finds "eating" but not "treatment".
_TOPIC_PATTERNS = [
    (re.compile(r"\b(?:" + "|".join(map(re.escape, keywords)) + ")"), noun, sentences)
    for keywords, noun, sentences in _TOPICS.values()
]
_GENERAL = (
    "my health",
    (
        "I take things one day at a time and try to stay on top of what my doctors tell me.",
        "It's a balance between looking after myself and still enjoying life.",
        "I've learned to ask questions when something doesn't make sense to me.",
    ),
)


@functools.lru_cache(maxsize=1024)
def _topic(question: str) -> tuple[str, tuple[str, ...]]:
    """What the question is about: the topic with the most keyword hits (first wins ties)."""
    text = question.lower()
    best, best_hits = _GENERAL, 0
    for pattern, noun, sentences in _TOPIC_PATTERNS:
        hits = len(pattern.findall(text))
        if hits > best_hits:
            best, best_hits = (noun, sentences), hits
    return best


def compose_answer(system: str, question: str, custom_id: str) -> str:
    """A 3–6 sentence first-person answer, a pure function of its arguments."""
    persona = parse_persona(system)
    rng = seeded_rng(custom_id, question)
    noun, topic_sentences = _topic(question)

    who, age = "Speaking for myself", ""
    if persona.name:
        who, age = f"I'm {persona.name}", f", {persona.age} years old" if persona.age else ""
    elif persona.age:
        who = f"I'm {persona.age} years old"
    intro = rng.choice(
        (
            f"{who}{age}, and I've thought about {noun} quite a bit.",
            f"{who}{age}, so I think about {noun} every single day.",
            f"Well, {_mid_sentence(who)}{age}, and honestly {noun} has been on my mind lately.",
        )
    )
    body: list[str] = []
    if persona.conditions:
        conditions = _join(persona.conditions)
        body.append(
            rng.choice(
                (
                    f"Living with {conditions} means I keep a close eye on how my body is doing.",
                    f"Between my {conditions}, there is always something to keep track of.",
                    f"My {conditions} shape a lot of my days, more than people realise.",
                )
            )
        )
    if persona.medications:
        medications = _join(persona.medications)
        body.append(
            rng.choice(
                (
                    f"I take {medications}, and I try hard not to miss a dose.",
                    f"Right now I'm on {medications}, which my doctor reviews every few months.",
                    f"My routine includes {medications}, kept in a pill organiser in the kitchen.",
                )
            )
        )
    first, second = rng.sample(topic_sentences, 2)
    body.append(first)

    extras = [second]
    if persona.allergies:
        extras.append(f"I'm allergic to {_join(persona.allergies)}, so I remind every new doctor.")
    if persona.occupation:
        occupation = _mid_sentence(persona.occupation)
        article = "an" if occupation[0].lower() in "aeiou" else "a"
        extras.append(f"Being {article} {occupation} has taught me to plan ahead.")
    rng.shuffle(extras)
    # Intro + body + closing stay within six sentences; extras fill what room is left.
    room = 6 - 2 - len(body)
    body.extend(extras[: rng.randint(1, room)])

    closing = rng.choice(
        (
            "That's the honest answer, anyway.",
            "I hope that helps you understand where I'm coming from.",
            "Some weeks are better than others, but I'm managing.",
        )
    )
    return " ".join([intro, *body, closing])
