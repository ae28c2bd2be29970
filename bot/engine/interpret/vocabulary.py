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
    "southeast asian": "asean", "south-east asian": "asean", "southeast asian countries": "asean",
    "asean countries": "asean", "asean members": "asean", "asean nations": "asean",
    "eu countries": "eu", "eu members": "eu", "eu member states": "eu", "europe's": "europe",
    "european": "europe", "european countries": "europe", "african": "africa", "african countries": "africa",
    "asian": "asia", "asian countries": "asia", "western": "western", "western nations": "western",
    "non western nations": "non_western", "non-western nations": "non_western", "outside the west": "non_western",
    "gulf countries": "gcc", "gulf nations": "gcc", "gcc countries": "gcc", "g7 countries": "g7",
    "g20 countries": "g20", "oecd countries": "oecd", "brics countries": "brics", "nato countries": "nato",
    "nato members": "nato", "quad countries": "quad", "oceanian": "oceania",
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
# each group by "G" and each field by "F". (verb, weight, pattern); 3 is the verb itself, 2 a
# phrase that names the verb's question, 1 a hint.
CUES: tuple[tuple[str, int, str], ...] = (
    ("partners", 3, r"\bpartners?\b|\bcollaborators?\b|\bco-?authors?\b|\bcollaboration partners\b"),
    (
        "partners",
        2,
        r"\b(works?|working|worked|collaborat\w*|cooperat\w*|co-?author\w*|co-?publish\w*|publish\w*|"
        r"write|writes|team(s|ed)? up|partner(s|ed|ing)?|teams?|ties|links?)\s+(the\s+)?(most\s+|more\s+|mainly\s+|often\s+|"
        r"frequently\s+|closely\s+|together\s+)?with\b(?!\s+(X|G)\s+(and|&)\s+X\b)(?!\s+each other)",
    ),
    ("partners", 2, r"\bwith whom\b|\bwho\b.*\bwith\b|\bwhich countries\b.*\bwith\b|\bwhat countries\b.*\bwith\b"),
    ("partners", 2, r"\b(allies|friends|counterparts|network|closest|top collaborat\w*|main collaborat\w*)\b"),
    ("partners", 1, r"\bcollaborat\w*\b|\bcooperat\w*\b|\bco-?author\w*\b|\bjoint\b|\btogether\b"),
    ("pair", 3, r"\bpair\b(?!s)|\bbilateral\b|\bbetween X (and|&) X\b|\bX\s*(-|–|—|/)\s*X\b"),
    (
        "pair",
        2,
        r"\b(over time|per year|each year|every year|year by year|year-by-year|yearly|annual(ly)?|"
        r"timeline|time series|history|historically|evolution|evolved|trajectory|how much|how many|how often|"
        r"how strong|how close|relationship|together|with each other|jointly|joint)\b",
    ),
    (
        "pair",
        2,
        r"\bX\s+(and|&)\s+X\b.*\b(collaborat\w*|work\w*|co-?author\w*|publish\w*|cooperat\w*|partner\w*|"
        r"ties|links?|papers|articles)\b|\b(collaborat\w*|cooperat\w*|co-?author\w*|ties|links?|partnership|joint)\b.*\bX\s+(and|&)\s+X\b",
    ),
    ("pair", 1, r"\bX\b.*\bwith X\b|\btrend\b"),
    ("compare", 3, r"\bcompar\w*\b|\bvs\.?\b|\bversus\b|\bv\.?\s+X\b|\bside by side\b|\bcontrast\b"),
    (
        "compare",
        2,
        r"\bagainst\b|\bX or X\b|\bstack up\b|\bwhich (one )?(is|has|does) (more|bigger|better|stronger)\b|"
        r"\bdifference between\b|\bwho (has|does) more\b|\bmore international\b|\bmore collaborative\b",
    ),
    (
        "top",
        3,
        r"\bmost (collaborative|international|connected|cross-border|internationally|globally)\b|"
        r"\bleaderboard\b|\bleague table\b|\branking\b|\brankings\b|\btop countries\b|\btop collaborating\b",
    ),
    (
        "top",
        2,
        r"\b(leading|leaders|lead|leads|top|biggest|largest|strongest|most active|highest)\b|"
        r"\bwhich countries\b|\bwhat countries\b|\bwho (collaborates|publishes|works|cooperates)\b|\brank\b|"
        r"\bcountries (that )?(collaborate|cooperate|co-author|work)\w* (the )?most\b",
    ),
    ("top", 1, r"\bmost\b|\bcountries\b"),
    (
        "fields",
        3,
        r"\bfields?\b|\bsubfields?\b|\bdisciplines?\b|\bresearch areas?\b|\bareas? of research\b|"
        r"\bby area\b|\btopics?\b|\bsubjects?\b|\bdomains?\b",
    ),
    (
        "fields",
        2,
        r"\b(which|what) (areas?|kinds? of research|types? of research|research)\b|\bbreak ?down\b|"
        r"\bspeciali[sz]\w*\b|\bstrong(est)? in\b|\bfocus(es|ed)? on\b|\bin which areas\b|\bacross fields\b",
    ),
    (
        "rising",
        3,
        r"\bris(e|es|ing|en)\b|\bfastest\b|\bgrow(s|ing|th|n)?\b|\bgrew\b|\bcagr\b|"
        r"\bup[- ]and[- ]coming\b|\bemerging\b|\btrending\b",
    ),
    (
        "rising",
        2,
        r"\b(increas\w*|accelerat\w*|surg\w*|boom\w*|momentum|gaining|expanding|climbing|rapid(ly)?|"
        r"quickest|quickly|faster|soaring|take off|taking off|on the rise|picking up|uptick|trend|trends)\b",
    ),
    (
        "profile",
        3,
        r"\bprofile\b|\btell me about\b|\boverview\b|\bsnapshot\b|\breport card\b|\bfact ?sheet\b|"
        r"\bwhat do you (know|have) (about|on)\b|\bkey (figures|facts|numbers|stats)\b",
    ),
    (
        "profile",
        2,
        r"\b(summary|summari[sz]e|stats|statistics|facts|figures|info|information|details|"
        r"patents?|investments?|invested|funding|citations?|cited|dashboard)\b|\bhow (is|does) X (do|doing|fare|perform)\w*\b|"
        r"\bhow (big|active|strong|good|large) is\b|\bai activity\b|\bhow many (ai )?(papers|articles|publications)\b|(?<!what )(?<!how )\babout X\b",
    ),
    (
        "about",
        3,
        r"\bwhere (does|do|did|is|are) (the |this |your |that )?(data|numbers|figures|information|stats)\b|"
        r"\b(data|numbers|figures) come from\b|\bdata ?sources?\b|\bsources?\b|\blicen[cs]e\w*\b|\bmethodology\b|"
        r"\bdatasets?\b|\bwhat data\b|\bwhich data\b|\bcaveats?\b|\bprovenance\b|\bhow (is|are) (this|it|the data|these) "
        r"(calculated|computed|made|collected)\b|\bhow (recent|current|up to date|fresh)\b|\bpublished tables\b|"
        r"\bdata release\b|\bhow do you know\b|\bcite (this|the data|you)\b",
    ),
    (
        "help",
        3,
        r"^\W*help\b|\bhelp me\b|\bwhat can (you|i) (do|ask|answer)\b|\bhow (do i|to) (use|ask)\b|"
        r"\bcommands\b|\bwhat do you do\b|\bexamples?\b|\busage\b|\binstructions\b|\bhow does this work\b",
    ),
    (
        "pairs",
        3,
        r"\bpairs\b|\bpairings\b|\bdyads?\b|\bpairs of countries\b|\bcountry pairs?\b|\bwhich two countries\b",
    ),
    (
        "pairs",
        2,
        r"\b(strongest|biggest|largest|top|closest|leading|main) (collaborations|partnerships|"
        r"bilateral|ties|links|relationships|duos)\b|\bmost (frequent|common) (partners|partnerships|collaborators)\b|"
        r"\bwith each other\b|\bwho (collaborates|works|partners) (the )?most with whom\b|\bwho with whom\b",
    ),
)
COMPILED_CUES = tuple((verb, weight, re.compile(pattern)) for verb, weight, pattern in CUES)

# Follow-up openings: the text changes the thread's last question rather than asking a new one.
FOLLOW_UP = re.compile(
    r"^(and|but|also|now|then|ok(ay)?|so|what about|how about|same|same for|same but|same thing|instead|"
    r"only|just|again|plus|rather|ok now|and now|now do|do|for|with|vs\.?|versus|compare( it| that| them)? with|"
    r"compared (to|with)|against|make it|change|switch|try|in|since|from|by|rank|sort|order|top|limit|show|"
    r"exclude|without|include|between|after|before|until|through|over)\b"
)
