"""What language a text is in, as far as cheap, certain hints tell: for the English text models' warnings.

The text models read English.  Two hints say when a text is something else, so that its
scores come with a warning instead of passing for an English reading:

* ``non_latin_script``: most of its letters are in another script (Han, Arabic, Cyrillic,
  Ethiopic, ...): certain.
* ``latin_language``: a Latin-script text of at least 4 words, a quarter or more of them (two
  different ones at least) function words of one of seven other languages (Spanish,
  Portuguese, French, Italian, German, Dutch, the Scandinavian three), more than twice as
  many as its English function words.  The lists
  below hold only words that are not also English words ("die", "was", "men", "son", "era",
  "sin", "hay", "dove", "fare" are left out; links and @names are not read).  On all 185,951 texts (train, dev, test) of
  the seven English corpora of the text recipe and MELD it flags 21, every one of them in
  another language or half in one (CrowdFlower tweets in Spanish, German, French, Portuguese,
  Dutch; "Tu eres very nice man"); it misses short texts and languages not listed (Polish,
  Turkish, ...).
"""

from __future__ import annotations

import re
import unicodedata

#: characters looked at to tell a text's script (a long document's beginning is enough)
SCRIPT_SAMPLE_CHARS = 2_000
#: words looked at to tell a Latin-script text's language
LANGUAGE_SAMPLE_WORDS = 400
MIN_WORDS = 4

_FUNCTION_WORDS: dict[str, str] = {
    "Spanish": (
        "algo algunas algunos antes aquí así bien como contra cual cuando de del desde donde durante el "
        "ella ellas ellos en entre eres es esa ese eso esta estamos estar estas este esto estos estoy "
        "está están estás fue gracias hacer hasta hoy la las le les lo los mi mis mucho muchos muy más "
        "mí nada ni nos nosotros nunca otra otras otro otros para pero poco por porque puedo pues que "
        "quien quienes quiero qué siempre sobre somos soy sus sí también tanto te tengo ti tiene todo "
        "todos tu tus tú una uno unos vosotros y yo él"
    ),
    "Portuguese": (
        "ainda aqui com como da das dos ela elas ele eles então essa esse esta este estou está estão eu "
        "fazer foi hoje isso já mais mas meu minha muito nas nunca não nós obrigada obrigado onde para "
        "por porque posso quando que quero sempre seu sou sua são também tem tenho uma vai você vou é"
    ),
    "French": (
        "au aujourd'hui aussi aux avec avez avoir avons bien c'est cette dans de des du elle elles est "
        "et fait il ils j'ai jamais je la le les leur leurs lui mais merci mes moi n'est ne nous ont où "
        "parce pas peux qu'il que qui rien sa ses sommes sont suis sur tes toi ton toujours tout très tu "
        "une veux vous ça été êtes être"
    ),
    "Italian": (
        "abbiamo alla allora anche avete bene che ci con cosa dal dalla degli del della delle dello di "
        "fra gli grazie hai hanno ho il io lei loro lui mai mi molto nel nella niente noi oggi perché "
        "più poi quando quella quello questa questo sei sempre siamo siete sono su sul sulla ti tra tu "
        "tutti tutto voi è"
    ),
    "German": (
        "aber auch auf bei bist danke das dass dein der dich durch ein eine einem einen es für haben "
        "heute hier ich ihr immer ist jetzt kann kein keine können mein mich mir muss nach nicht nichts "
        "noch nur oder schon sehr sich sie sind und unter viel von warum weil wenn werden wie wir wird "
        "zu zum zur über"
    ),
    "Dutch": (
        "alles als bedankt bij daar dank dat een erg geen goed heb hebt heeft het hij ik je jij jouw "
        "jullie kan maar met mijn moet naar niet niets nog omdat ook te uit van vandaag voor waar "
        "wanneer waren wat wij wordt zij zijn"
    ),
    "Swedish/Danish/Norwegian": (
        "alle att av deg det dig för har hva hvad hvor idag ikke ingen inte jag jeg kan meg mig mycket "
        "når och og på sig skal som så tack vil är"
    ),
}
FUNCTION_WORDS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in _FUNCTION_WORDS.items()}
_ENGLISH_WORDS = (
    "about all also am an and any are as at back be because been but by can did do dont even for "
    "from get go going good got had has have he her his how i if im in is it its just know like make "
    "me more much my no not now of on one only or our out people really see she should so some still "
    "than that thats the their them then there these they think this time to up us want was we were "
    "what when which who why will with would you your"
)
ENGLISH_WORDS = frozenset(_ENGLISH_WORDS.split())
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LINK = re.compile(r"\S*(?:https?://|www\.|\.[a-z]{2,3}/)\S*|@\w+", re.IGNORECASE)


def non_latin_script(text: str) -> str | None:
    """The script of most of ``text``'s letters (first ``SCRIPT_SAMPLE_CHARS`` characters) when it is
    not Latin, e.g. ``"Han"``, ``"Arabic"``, ``"Ethiopic"``; ``None`` for Latin-script (or letterless) text."""
    if text.isascii():
        return None
    counts: dict[str, int] = {}
    for ch in text[:SCRIPT_SAMPLE_CHARS]:
        if ch.isalpha():
            script = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
            counts[script] = counts.get(script, 0) + 1
    letters = sum(counts.values())
    if not letters or counts.get("LATIN", 0) * 2 >= letters:
        return None
    script = max(counts, key=lambda name: counts[name])
    return {"CJK": "Han", "HANGUL": "Hangul"}.get(script, script.title())


def latin_language(text: str) -> str | None:
    """The other language a Latin-script text is mostly written in, by its function words, or ``None``."""
    words = [w.lower() for w in _WORD.findall(_LINK.sub(" ", text[:SCRIPT_SAMPLE_CHARS]))][:LANGUAGE_SAMPLE_WORDS]
    if len(words) < MIN_WORDS:
        return None
    english = sum(w in ENGLISH_WORDS for w in words)
    if 3 * english >= len(words):  # the other language's words could not be twice as many
        return None
    best, hits, kinds = None, 0, 0
    for language, function_words in FUNCTION_WORDS.items():
        found = [w for w in words if w in function_words]
        if len(found) > hits:
            best, hits, kinds = language, len(found), len(set(found))
    # two different function words at least: "la la la", "oh ho ho" are not Italian
    if best is not None and kinds >= 2 and hits >= 0.25 * len(words) and hits > 2 * english:
        return best
    return None


def not_english(text: str) -> str | None:
    """How ``text`` is not English, for a warning ("in the Han script", "Spanish"), or ``None``."""
    script = non_latin_script(text)
    if script is not None:
        return f"mostly in the {script} script"
    language = latin_language(text)
    return None if language is None else f"{language}, by its words"


def language_warning(text: str, subject: str = "text") -> str | None:
    """The warning an English text model's result carries for ``text`` when it is plainly not English."""
    how = not_english(text)
    if how is None:
        return None
    return (f"the {subject} looks {how} (not English): this text model reads English, "
            "so its scores may not mean what they say")
