"""The words the interpreter knows beyond the reference tables: synonyms, demonyms, intent cues.

Country, group and field names come from bot/reference (the same tables the command parser uses);
this module only adds how people say things in sentences.
"""

from __future__ import annotations

import re

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "dozen": 12, "a dozen": 12,
}  # fmt: skip

# Field terms people use that the fields table does not list (the table's aliases are used too).
FIELD_SYNONYMS = {
    "machine vision": "cv", "image processing": "cv", "images": "cv", "image": "cv", "video": "cv",
    "visual recognition": "cv", "object detection": "cv", "computer-vision": "cv", "vision research": "cv",
    "natural-language processing": "nlp", "text mining": "nlp", "computational linguistics": "nlp",
    "language technology": "nlp", "speech": "nlp", "machine translation": "nlp", "nlu": "nlp",
    "robotic": "robotics", "autonomous robots": "robotics",
    "gpt": "llm", "chatgpt": "llm", "chatbots": "llm", "generative ai": "llm", "genai": "llm",
    "gen ai": "llm", "foundation models": "llm", "foundation model": "llm", "large-language models": "llm",
    "language model": "llm", "l.l.m.": "llm", "l.l.m.s": "llm",
    "alignment": "ai_safety", "safe ai": "ai_safety", "ai alignment": "ai_safety", "trustworthy ai": "ai_safety",
    "chip": "chips", "microchips": "chips", "microelectronics": "chips", "semis": "chips",
    "integrated circuits": "chips", "chipmaking": "chips", "semiconductor research": "chips",
    "cybersecurity research": "cyber", "cyber-security": "cyber", "infosec": "cyber",
    "information security": "cyber",
}  # fmt: skip

# Demonyms and other sentence forms of countries (names, aliases and codes come from the table).
DEMONYMS = {
    "american": "USA", "americans": "USA", "us-based": "USA", "chinese": "CHN", "japanese": "JPN",
    "korean": "KOR", "south korean": "KOR", "north korean": "PRK", "indian": "IND", "british": "GBR",
    "english": "GBR", "french": "FRA", "german": "DEU", "italian": "ITA", "spanish": "ESP",
    "dutch": "NLD", "swiss": "CHE", "swedish": "SWE", "danish": "DNK", "norwegian": "NOR",
    "finnish": "FIN", "polish": "POL", "greek": "GRC", "irish": "IRL", "portuguese": "PRT",
    "belgian": "BEL", "austrian": "AUT", "czech": "CZE", "russian": "RUS", "ukrainian": "UKR",
    "turkish": "TUR", "israeli": "ISR", "iranian": "IRN", "iraqi": "IRQ", "saudi": "SAU",
    "emirati": "ARE", "qatari": "QAT", "egyptian": "EGY", "pakistani": "PAK", "bangladeshi": "BGD",
    "indonesian": "IDN", "malaysian": "MYS", "singaporean": "SGP", "thai": "THA", "vietnamese": "VNM",
    "filipino": "PHL", "philippine": "PHL", "taiwanese": "TWN", "australian": "AUS", "canadian": "CAN",
    "mexican": "MEX", "brazilian": "BRA", "argentine": "ARG", "argentinian": "ARG", "chilean": "CHL",
    "colombian": "COL", "nigerian": "NGA", "kenyan": "KEN", "south african": "ZAF",
    "ethiopian": "ETH", "moroccan": "MAR", "tunisian": "TUN", "algerian": "DZA", "new zealander": "NZL",
    "kiwi": "NZL", "hungarian": "HUN", "romanian": "ROU", "jordanian": "JOR", "lebanese": "LBN",
    "sri lankan": "LKA", "nepalese": "NPL", "nepali": "NPL", "kazakh": "KAZ", "uzbek": "UZB",
    "ghanaian": "GHA", "peruvian": "PER", "cuban": "CUB", "omani": "OMN", "kuwaiti": "KWT",
    "bahraini": "BHR", "estonian": "EST", "latvian": "LVA", "lithuanian": "LTU", "slovak": "SVK",
    "slovenian": "SVN", "croatian": "HRV", "serbian": "SRB", "bulgarian": "BGR", "icelandic": "ISL",
    "luxembourgish": "LUX", "maltese": "MLT", "cypriot": "CYP",
    "u.s": "USA", "u.k": "GBR", "s. korea": "KOR", "s korea": "KOR", "south-korea": "KOR",
    "uae": "ARE", "holland": "NLD", "great britain": "GBR",
}  # fmt: skip

GROUP_SYNONYMS = {
    "southeast asia": "asean", "south-east asia": "asean", "south east asia": "asean",
    "southeast asian": "asean", "south-east asian": "asean", "europe's": "europe", "european": "europe",
    "african": "africa", "asian": "asia", "western": "western", "outside the west": "non_western",
    "oceanian": "oceania",
}  # fmt: skip
# Groups said as adjectives describe what is counted ("Asian collaborators", "European partners of
# Japan"): they narrow a question rather than being what it is about.
ADJECTIVE_GROUPS = frozenset(
    {"southeast asian", "south-east asian", "european", "african", "asian", "western", "oceanian"}
)

# Chat spellings of short words, too short for a fuzzy matcher to fix safely.
CHAT_SPELLINGS = {
    "wiht": "with", "wtih": "with", "whit": "with", "w/": "with", "dose": "does", "deos": "does", "teh": "the",
    "waht": "what", "wat": "what", "wht": "what", "whos": "who is", "who's": "who is", "abt": "about",
    "bout": "about", "hw": "how", "u": "you", "ur": "your", "r": "are", "pls": "please", "thx": "thanks",
    "btw": "", "fyi": "", "w": "with", "vs.": "vs", "v.": "vs", "collab": "collaborate", "colab": "collaborate",
    "collabs": "collaborations", "colabs": "collaborations", "b/w": "between", "btwn": "between",
}  # fmt: skip

# Words that are never a country, group or field, whatever a fuzzy matcher thinks (and never a typo
# of one): the words of questions about research collaboration.
STOPWORDS = frozenset(
    """
    a about above across after again against all also am among amongst an and any are as at be been
    before being below between both but by can could did do does doing done down during each either
    else ever every for from further get gets give given go goes going got had has have having he her
    here hers him his how i if in into is it its itself just know let like list made make many me
    more most much my near need no nor not now of off on once one only or other others our ours out
    over own per please pls plz same see shall she should show so some such than that the their
    theirs them then there these they this those through thus to too top under until up upon us
    very via want was we well were what when where whether which while who whom whose why will
    with within without would yes yet you your yours
    hi hello hey hiya yo howdy greetings dear thanks thank thx cheers morning afternoon evening
    ai research researchers papers paper articles article publications publication output studies
    science scientists scientific academic academics universities university institutions authors
    author co-authors coauthors co-author coauthor co collaboration collaborations collaborate
    collaborates collaborated collaborating collaborative collaborator collaborators cooperation
    cooperate cooperates partner partners partnership partnerships work works worked working
    joint jointly together countries country nations nation world global globally international
    cross-border border links link ties relationship relationships data dataset datasets source
    sources come comes table tables field fields area areas topic topics domain domains subject
    subjects trend trends time years year recent recently latest last first since between versus vs
    compare compared comparison comparing profile overview summary tell rank ranked ranking rankings
    leading leader leaders biggest largest strongest closest main major number numbers count counts
    share shares rate rates growth growing grow grows grew rising rise rises fastest fast faster
    quickly increasing increase affinity normalised normalized relative size sizes complete
    incomplete only full total overall best bottom lowest highest high low mostly often publish
    publishes published publishing write writes wrote team teams teamed fellow frequent frequently
    happen happens help commands examples okay ok sure great cool nice awesome now again instead
    also same then answer question ask asking tell show showing give me bot collab slack
    """.split()
)

# Intent cues, matched on the question's skeleton: its words with each country replaced by "X",
# each group by "G" and each field by "F". verb -> (weight, alternatives); 3 is the verb itself,
# 2 a phrase that names the verb's question, 1 a hint.
_WITH_PARTNER = (  # "collaborates (most) with", but not "with X and X" (that is a pair) or "each other"
    r"\b(works?|working|worked|collaborat\w*|cooperat\w*|co-?author\w*|co-?publish\w*|publish\w*|write|writes|"
    r"team(s|ed)? up|partner(s|ed|ing)?|teams?|ties|links?)\s+(the\s+)?"
    r"(most\s+|more\s+|mainly\s+|often\s+|frequently\s+|closely\s+|together\s+)?with\b"
    r"(?!\s+(X|G)\s+(and|&)\s+X\b)(?!\s+each other)"
)
_COLLABORATES = r"(collaborat\w*|work\w*|co-?author\w*|publish\w*|cooperat\w*|partner\w*|ties|links?|papers|articles)"
CUES: dict[str, tuple[tuple[int, tuple[str, ...]], ...]] = {
    "partners": (
        (3, (r"\bpartners?\b", r"\bcollaborators?\b", r"\bco-?authors?\b")),
        (
            2,
            (
                _WITH_PARTNER,
                r"\bwith (whom|which (countries|nations|partners))\b",
                r"\bX and (who|whom)\b",
                r"\bwho\b.*\bwith\b",
                r"\b(which|what) countries\b.*\bwith\b",
            ),
        ),
        (2, (r"\b(allies|friends|counterparts|network|closest)\b", r"\b(top|main) collaborat\w*")),
        (2, (r"\b(connected|linked|tied|close|closest|closer) (to|with) X\b",)),
        (
            1,
            (
                r"\b(links|ties|connections)\b",
                r"\bcollaborat\w*\b",
                r"\bcooperat\w*\b",
                r"\bco-?author\w*\b",
                r"\bjoint\b",
                r"\btogether\b",
            ),
        ),
    ),
    "pair": (
        (3, (r"\bpair\b(?!s)", r"\bbilateral\b", r"\bbetween X (and|&) X\b", r"\bX\s*(-|–|—|/|\+)\s*X\b")),
        (
            2,
            (
                r"\b(over time|per year|each year|every year|year by year|year-by-year|yearly|annual(ly)?)\b",
                r"\b(over|through|across) the years\b|\bby year\b|\byear on year\b",
                r"\b(timeline|time series|history|historically|evolution|evolved|trajectory)\b",
                r"\bhow (much|many|often|strong|close)\b",
                r"\b(relationship|together|with each other|jointly|joint)\b",
            ),
        ),
        (
            2,
            (
                rf"\bX\s+(and|&)\s+X\b.*\b{_COLLABORATES}\b",
                r"\b(collaborat\w*|cooperat\w*|co-?author\w*|ties|links?|partnership|joint)\b.*\bX\s+(and|&)\s+X\b",
            ),
        ),
        (1, (r"\bX\b.*\bwith X\b", r"\btrend\b")),
    ),
    "compare": (
        (
            3,
            (
                r"\bcompar\w*\b",
                r"\bvs\.?\b",
                r"\bversus\b",
                r"\bv\.?\s+X\b",
                r"\bside by side\b",
                r"\bcontrast\b",
                r"\bbenchmark\w*\b",
            ),
        ),
        (
            2,
            (
                r"\bagainst\b",
                r"\bX or X\b",
                r"\bstack up\b",
                r"\bwhich (one )?(is|has|does) (more|bigger|better|stronger)\b",
                r"\bdifference between\b",
                r"\bwho (has|does) more\b",
                r"\bmore (international|collaborative)\b",
            ),
        ),
    ),
    "top": (
        (
            3,
            (
                r"\bmost (collaborative|international|connected|cross-border|internationally|globally)\b",
                r"\b(leaderboard|league table|rankings?|top countries|top collaborating)\b",
                r"\b(which|what) G (country|countries|nations?|members?|states?)\b",
            ),
        ),
        (
            2,
            (
                r"\b(leading|leaders|lead|leads|top|biggest|largest|strongest|most active|highest|rank)\b",
                r"\b(hotspots?|hubs?|powerhouses?|heavyweights?|centres|centers)\b",
                r"\bdominat\w*\b",
                r"\b(which|what) countries\b",
                r"\bwho (collaborates|publishes|works|cooperates)\b",
                r"\bcountries (that )?(collaborate|cooperate|co-author|work)\w* (the )?most\b",
            ),
        ),
        (1, (r"\bmost\b", r"\bcountries\b")),
    ),
    "fields": (
        (3, (r"\b(fields?|subfields?|disciplines?|research areas?|areas? of research|by area|topics?|subjects?)\b",)),
        (3, (r"\bdomains?\b",)),
        (
            2,
            (
                r"\b(which|what) (areas?|kinds? of research|types? of research|research)\b",
                r"\bbreak ?down\b",
                r"\bspeciali[sz]\w*\b",
                r"\b(strengths|specialties|specialities|expertise|niches?)\b",
                r"\bwhat (does|do|did)\b.*\b(collaborat|work|cooperat|publish|research)\w* on\b(?!\s+F)",
                r"\bstrong(est)? in\b",
                r"\bfocus(es|ed)? on\b",
                r"\bacross fields\b",
            ),
        ),
    ),
    "rising": (
        (
            3,
            (
                r"\b(ris(e|es|ing|en)|fastest|grow(s|ing|th|n)?|grew|cagr|emerging|trending)\b",
                r"\bup\W+and\W+coming\b",
            ),
        ),
        (
            2,
            (
                r"\b(increas\w*|accelerat\w*|surg\w*|boom\w*|momentum|gaining|expanding|climbing|rapid(ly)?)\b",
                r"\b(quickest|quickly|faster|soaring|take off|taking off|on the rise|picking up|uptick|trends?)\b",
                r"\b(become|becoming|became|grown) (a |an )?(more|bigger|larger|stronger)\b",
                r"\bmore (important|significant|prominent)\b",
            ),
        ),
    ),
    "profile": (
        (
            3,
            (
                r"\b(profile|tell me about|overview|snapshot|report card|fact ?sheet|scorecard|at a glance)\b",
                r"\bwhat do you (know|have) (about|on)\b",
                r"\bkey (figures|facts|numbers|stats)\b",
            ),
        ),
        (1, (r"\bpublish(es|ed|ing)?\b(?! with)", r"\bproduc(e|es|ed|ing)\b")),
        (
            2,
            (
                r"\b(summary|summari[sz]e|stats|statistics|facts|figures|info|information|details|dashboard)\b",
                r"\b(background|in a nutshell|report on|rundown)\b",
                r"\b(patents?|investments?|invested|funding|citations?|cited)\b",
                r"\bhow (is|does) X (do|doing|fare|perform)\w*\b",
                r"\b(how|where) (does|do|did) X (rank|stand|place)\b",
                r"\bhow (big|active|strong|good|large) is\b",
                r"\bai activity\b",
                r"\bhow many (F )?(papers|articles|publications)\b",
                r"\bwhat('s| is| are) X\b.*\blike\b",
                r"\b(numbers|metrics|indicators|output|activity)\b",
                r"(?<!what )(?<!how )\babout X\b",
            ),
        ),
    ),
    "about": (
        (
            3,
            (
                r"\bwhere (does|do|did|is|are) (the |this |your |that )?(data|numbers|figures|information|stats)\b",
                r"\b(data|numbers|figures) come from\b",
                r"\bwhere\b.*\b(data|numbers|figures|stats)\b",
                r"\b(data|numbers|figures|stats)\b.*\bfrom\W*$",
                r"\b(what|who)('s| is| are) (the )?(eto|cset|openalex|emerging technology observatory)\b",
                r"\b(data ?sources?|sources?|licen[cs]e\w*|methodology|datasets?|caveats?|provenance)\b",
                r"\b(what|which) data\b",
                r"\bhow (is|are|was|were) (this|it|the|these|that)( data| numbers)? "
                r"(calculated|computed|made|collected|gathered|measured|counted|built|compiled)\b",
                r"\bhow (recent|current|up to date|fresh)\b",
                r"\b(published tables|data release)\b",
                r"\babout (the |this |your )?(data|sources?|bot|tool|datasets?|numbers)\b",
                r"\bhow do you know\b",
                r"\bhow (do|does) (you|it|this|the bot) (calculate|compute|count|measure)\b",
                r"\bwho (made|built|publishes|maintains) (this|the data|these)\b",
                r"\bcite (this|the data|you)\b",
            ),
        ),
    ),
    "help": (
        (
            3,
            (
                r"^\W*help\b",
                r"\bhelp\W*$",
                r"\bhelp me\b",
                r"\bwhat can (you|i|it|this|this bot|this tool|the bot|collab) (do|ask|answer)\b",
                r"\bhow (do i|to) (use|ask)\b",
                r"\b(commands|examples?|usage|instructions)\b",
                r"\bwhat do you do\b",
                r"\bhow does this work\b",
            ),
        ),
    ),
    "pairs": (
        (3, (r"\b(pairs|pairings|dyads?|pairs of countries|country pairs?)\b", r"\bwhich two countries\b")),
        (
            2,
            (
                r"\b(strongest|biggest|largest|top|closest|leading|main) "
                r"(collaborations|partnerships|bilateral|ties|links|relationships|duos)\b",
                r"\bmost (frequent|common) (partners|partnerships|collaborators)\b",
                r"\bwith each other\b",
                r"\bwho (collaborates|works|partners) (the )?most with whom\b",
                r"\bwho with whom\b",
            ),
        ),
    ),
}
COMPILED_CUES = tuple(
    (verb, weight, re.compile("|".join(alternatives))) for verb, rules in CUES.items() for weight, alternatives in rules
)

# Follow-up openings: the text changes the thread's last question rather than asking a new one.
FOLLOW_UP = re.compile(
    r"^(and|but|also|now|then|ok(ay)?|so|what about|how about|same|same for|same but|same thing|instead|"
    r"add|swap|replace|substitute|drop|remove|clear|"
    r"only|just|again|plus|rather|ok now|and now|now do|do|for|with|vs\.?|versus|compare( it| that| them)? with|"
    r"compared (to|with)|against|make it|change|switch|try|in|since|from|by|rank|sort|order|top|limit|show|"
    r"exclude|without|include|between|after|before|until|through|over)\b"
)
