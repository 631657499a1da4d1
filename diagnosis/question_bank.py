"""The question bank: standard survey items a facilitator can add to a consultation's questionnaire.

Why a bank: the perception, victimisation and trust questions of a participatory safety diagnosis
(docs: /work/shared/DOMAIN.md → "Standard survey items") are only comparable between consultations,
rounds and cities if they are asked the same way. The bank holds them once, carefully worded in
the four site languages, with stable codes and choice values, so that the diagnosis and exports can
recognise them anywhere (`bank-safe-night` is always SDG indicator 16.1.4).

The item texts are *content*, not interface strings: they are written into the page's
questionnaire in the page's language and then translated with wagtail-localize like anything an
editor writes. So they are plain strings here, in every language, and never go through gettext;
`question_bank_add` offers the bank's own wording in the other languages to wagtail-localize
(`diagnosis.translation_prefill.offer_translations`). Theme titles and the method notes are for
facilitators in the admin only, so those are gettext strings.

Sources: SDG 16.1.4 in the UN metadata wording (UNODC); Spanish and French wording of it, and the
gender-based-violence services items, adapted from UNHCR's Results Monitoring Survey (RMS CAPI v3,
items SAF01 and GBV01a–d, MIT licence, github.com/unhcr-americas/IndicatorCalc); avoidance items
from the UN Women Safe Cities scoping questions. See docs/question-bank.md.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .pages import ConsultationPage
from .questionnaire_blocks import (
    LIKERT,
    MULTIPLE_CHOICE,
    SINGLE_CHOICE,
    TIME_BAND,
    QuestionnaireBlock,
    questionnaire_problems,
    questionnaire_stream,
)
from .translation_prefill import offer_translations, synchronised_source

# The languages the bank is written in; the first is the fallback for a page in any other.
LANGUAGES = ("es", "en", "fr", "pt")
FALLBACK_LANGUAGE = "es"
# Every bank code starts with this, so it can never clash with a code a facilitator invents.
CODE_PREFIX = "bank-"
# Shown by wagtail-localize beside a segment the bank translated ("Translated with …").
TOOL_NAME = "Convive question bank"


@dataclass(frozen=True)
class Texts:
    """One resident-facing text in each bank language."""

    es: str
    en: str
    fr: str
    pt: str

    def __getitem__(self, language: str) -> str:
        return getattr(self, language)

    def format(self, **parts: "Texts") -> "Texts":
        """Fill `{name}` placeholders language by language (for items sharing a lead-in)."""
        return Texts(
            **{
                language: self[language].format(**{k: v[language] for k, v in parts.items()})
                for language in LANGUAGES
            }
        )


NO_TEXT = Texts(es="", en="", fr="", pt="")


@dataclass(frozen=True)
class Choice:
    value: str
    label: Texts


@dataclass(frozen=True)
class Theme:
    """A group of items on the bank screen; titles are interface strings (gettext)."""

    code: str
    title: Promise
    description: Promise


@dataclass(frozen=True)
class BankItem:
    """One standard question: structure, wording in every language, and the facilitator's note.

    `condition` is `(parent code, choice value)`: the methodology asks the item only of residents
    who gave that answer (e.g. reasons for not reporting only after "no, not reported"). The parent
    is always an earlier bank item, so adding a follow-up adds its parent too.
    """

    code: str
    theme: Theme
    type: str
    text: Texts
    note: Promise
    help_text: Texts = NO_TEXT
    choices: tuple[Choice, ...] = ()
    condition: tuple[str, str] | None = None
    multiple: bool = False  # time of day: several bands may be chosen

    def value(self, language: str) -> dict:
        """The StructBlock value of this item in one language (raw StreamField data)."""
        value = {
            "code": self.code,
            "question": self.text[language],
            "help_text": self.help_text[language],
            "required": False,
            "condition": {
                "question": self.condition[0] if self.condition else "",
                "answer": self.condition[1] if self.condition else "",
            },
        }
        if self.type == TIME_BAND:
            value["multiple"] = self.multiple
        else:
            value["choices"] = [
                {"value": choice.value, "label": choice.label[language]} for choice in self.choices
            ]
        return value

    def texts(self) -> list[Texts]:
        """Every resident-facing text of the item (question, help text, choice labels)."""
        texts = [self.text]
        if self.help_text != NO_TEXT:
            texts.append(self.help_text)
        texts.extend(choice.label for choice in self.choices)
        return texts


# --- Themes -----------------------------------------------------------------------------------

PERCEPTION = Theme(
    "perception",
    gettext_lazy("Perception of safety"),
    gettext_lazy(
        "How safe residents feel walking alone in their area after dark (SDG 16.1.4), by day "
        "and on public transport. Perception is a dimension of its own: report it beside "
        "what residents experienced, never as crime data."
    ),
)
AVOIDANCE = Theme(
    "avoidance",
    gettext_lazy("Places avoided"),
    gettext_lazy(
        "Which places residents avoid, why and when (UN Women Safe Cities scoping questions). "
        "The follow-ups appear only to residents who say they avoid places."
    ),
)
VICTIMISATION = Theme(
    "victimisation",
    gettext_lazy("Victimisation in the last 12 months"),
    gettext_lazy(
        "Whether residents were victims of crime or violence in their area in the last 12 months, "
        "and of what. Sensitive: every item is optional and offers “prefer not to say”."
    ),
)
REPORTING = Theme(
    "reporting",
    gettext_lazy("Reporting to the police"),
    gettext_lazy(
        "Asked only of residents who were victims: whether it was reported, and if not, why not."
    ),
)
TRUST = Theme(
    "trust",
    gettext_lazy("Trust in local institutions"),
    gettext_lazy(
        "Trust in the police, the local government, the justice system and community "
        "organisations, on the same four-point scale."
    ),
)
GBV_SERVICES = Theme(
    "gbv-services",
    gettext_lazy("Support services for gender-based violence"),
    gettext_lazy(
        "Whether residents could tell someone suffering gender-based violence where to find help "
        "(UNHCR Results Monitoring Survey, GBV01a–d). Give the local support line in the "
        "consultation, so residents who need it can find it."
    ),
)
THEMES: tuple[Theme, ...] = (PERCEPTION, AVOIDANCE, VICTIMISATION, REPORTING, TRUST, GBV_SERVICES)


# --- Shared choices ---------------------------------------------------------------------------

YES = Choice("yes", Texts(es="Sí", en="Yes", fr="Oui", pt="Sim"))
NO = Choice("no", Texts(es="No", en="No", fr="Non", pt="Não"))
DONT_KNOW = Choice(
    "dont-know", Texts(es="No sé", en="Don’t know", fr="Je ne sais pas", pt="Não sei")
)
PREFER_NOT = Choice(
    "prefer-not",
    Texts(
        es="Prefiero no responder",
        en="Prefer not to say",
        fr="Je préfère ne pas répondre",
        pt="Prefiro não responder",
    ),
)
OTHER_REASON = Choice(
    "other", Texts(es="Otra razón", en="Another reason", fr="Une autre raison", pt="Outro motivo")
)

# The SDG 16.1.4 answer categories (UN metadata: very safe, fairly safe, a bit unsafe, very
# unsafe); Spanish as in UNHCR's SAF01. Values are the four points in order, then the answers
# that analysis leaves out.
SAFETY_SCALE = (
    Choice(
        "very-safe",
        Texts(es="Muy seguro/a", en="Very safe", fr="Très en sécurité", pt="Muito seguro/a"),
    ),
    Choice(
        "safe",
        Texts(
            es="Bastante seguro/a",
            en="Fairly safe",
            fr="Plutôt en sécurité",
            pt="Razoavelmente seguro/a",
        ),
    ),
    Choice(
        "unsafe",
        Texts(
            es="Un poco inseguro/a",
            en="A bit unsafe",
            fr="Plutôt en insécurité",
            pt="Um pouco inseguro/a",
        ),
    ),
    Choice(
        "very-unsafe",
        Texts(
            es="Muy inseguro/a", en="Very unsafe", fr="Très en insécurité", pt="Muito inseguro/a"
        ),
    ),
)

# The four-point trust scale of Latin-American opinion surveys (mucha, algo, poca, ninguna).
TRUST_SCALE = (
    Choice("a-lot", Texts(es="Mucha", en="A lot", fr="Beaucoup", pt="Muita")),
    Choice("some", Texts(es="Algo", en="Some", fr="Assez", pt="Alguma")),
    Choice("a-little", Texts(es="Poca", en="A little", fr="Peu", pt="Pouca")),
    Choice("not-at-all", Texts(es="Ninguna", en="Not at all", fr="Pas du tout", pt="Nenhuma")),
    DONT_KNOW,
    PREFER_NOT,
)

CHOOSE_ALL = Texts(
    es="Marca todas las opciones que correspondan.",
    en="Choose all that apply.",
    fr="Cochez toutes les réponses qui correspondent.",
    pt="Marque todas as opções que se aplicam.",
)


def _choices(*pairs: tuple[str, Texts]) -> tuple[Choice, ...]:
    return tuple(Choice(value, label) for value, label in pairs)


def _trust(code: str, institution: Texts, note: Promise) -> BankItem:
    return BankItem(
        code=code,
        theme=TRUST,
        type=LIKERT,
        text=Texts(
            es="¿Cuánta confianza tienes en {institution}?",
            en="How much do you trust {institution}?",
            fr="Dans quelle mesure faites-vous confiance {institution}\u00a0?",
            pt="Quanta confiança você tem {institution}?",
        ).format(institution=institution),
        choices=TRUST_SCALE,
        note=note,
    )


GBV_DEFINITION = Texts(
    es=(
        "La violencia de género es la que sufre una persona por su género: por ejemplo, la "
        "violencia de una pareja o expareja, la violencia sexual o el acoso."
    ),
    en=(
        "Gender-based violence is violence against someone because of their gender: for example "
        "violence by a partner or former partner, sexual violence or harassment."
    ),
    fr=(
        "Les violences fondées sur le genre visent une personne en raison de son genre\u00a0: "
        "par exemple les violences d’un ou d’une partenaire ou ex-partenaire, les violences "
        "sexuelles ou le harcèlement."
    ),
    pt=(
        "Violência de gênero é a que uma pessoa sofre por causa do seu gênero: por exemplo, "
        "violência de parceiro/a ou ex-parceiro/a, violência sexual ou assédio."
    ),
)


def _gbv(code: str, service: Texts, note: Promise) -> BankItem:
    return BankItem(
        code=code,
        theme=GBV_SERVICES,
        type=SINGLE_CHOICE,
        text=Texts(
            es=(
                "Si alguien de tu barrio sufriera violencia de género y te pidiera ayuda, "
                "¿sabrías decirle dónde {service}?"
            ),
            en=(
                "If someone in your area suffered gender-based violence and asked you for help, "
                "could you tell them where to {service}?"
            ),
            fr=(
                "Si une personne de votre quartier subissait des violences fondées sur le genre "
                "et vous demandait de l’aide, sauriez-vous lui indiquer où {service}\u00a0?"
            ),
            pt=(
                "Se alguém do seu bairro sofresse violência de gênero e pedisse sua ajuda, você "
                "saberia dizer onde {service}?"
            ),
        ).format(service=service),
        help_text=GBV_DEFINITION,
        choices=(YES, NO, DONT_KNOW),
        note=note,
    )


# --- The items --------------------------------------------------------------------------------

BANK: tuple[BankItem, ...] = (
    # Perception ------------------------------------------------------------------------------
    BankItem(
        code="bank-safe-night",
        theme=PERCEPTION,
        type=LIKERT,
        text=Texts(
            es=(
                "¿Qué tan seguro/a te sientes caminando solo/a por el barrio donde vives después "
                "del anochecer?"
            ),
            en="How safe do you feel walking alone around the area you live after dark?",
            fr=(
                "Dans quelle mesure vous sentez-vous en sécurité lorsque vous marchez seul(e) dans "
                "le quartier où vous vivez, une fois la nuit tombée\u00a0?"
            ),
            pt=(
                "Quão seguro/a você se sente caminhando sozinho/a pelo bairro onde mora depois "
                "que escurece?"
            ),
        ),
        help_text=Texts(
            es="Si nunca caminas solo/a de noche, dinos qué tan seguro/a te sentirías.",
            en="If you never walk alone after dark, tell us how safe you would feel.",
            fr=(
                "Si vous ne marchez jamais seul(e) une fois la nuit tombée, dites-nous comment "
                "vous vous sentiriez."
            ),
            pt=(
                "Se você nunca caminha sozinho/a depois que escurece, diga quão seguro/a se "
                "sentiria."
            ),
        ),
        choices=(*SAFETY_SCALE, DONT_KNOW, PREFER_NOT),
        note=gettext_lazy(
            "SDG indicator 16.1.4 in the wording of the UN metadata (UNODC); Spanish and French "
            "adapted from UNHCR’s Results Monitoring Survey (SAF01). Indicator: the share "
            "answering “very safe” or “fairly safe” among residents who chose one of the four "
            "points; “don’t know” and “prefer not to say” are left out. Everyone answers it: "
            "residents who never walk alone after dark say how safe they would feel, as UNHCR’s "
            "survey instructs. Put it before the questions about crime, so that they do not "
            "colour the answer."
        ),
    ),
    BankItem(
        code="bank-safe-day",
        theme=PERCEPTION,
        type=LIKERT,
        text=Texts(
            es=(
                "¿Qué tan seguro/a te sientes caminando solo/a por el barrio donde vives durante "
                "el día?"
            ),
            en="How safe do you feel walking alone around the area you live during the day?",
            fr=(
                "Dans quelle mesure vous sentez-vous en sécurité lorsque vous marchez seul(e) dans "
                "le quartier où vous vivez, pendant la journée\u00a0?"
            ),
            pt=(
                "Quão seguro/a você se sente caminhando sozinho/a pelo bairro onde mora durante o "
                "dia?"
            ),
        ),
        help_text=Texts(
            es="Si nunca caminas solo/a de día, dinos qué tan seguro/a te sentirías.",
            en="If you never walk alone during the day, tell us how safe you would feel.",
            fr=(
                "Si vous ne marchez jamais seul(e) pendant la journée, dites-nous comment vous "
                "vous sentiriez."
            ),
            pt="Se você nunca caminha sozinho/a durante o dia, diga quão seguro/a se sentiria.",
        ),
        choices=(*SAFETY_SCALE, DONT_KNOW, PREFER_NOT),
        note=gettext_lazy(
            "The SDG 16.1.4 scale, by day. Read beside the after-dark item: the difference shows "
            "how much darkness adds to the fear, a pointer to lighting and other situational "
            "prevention. Same reading: “very safe” + “fairly safe” among those who chose a point."
        ),
    ),
    BankItem(
        code="bank-safe-transport",
        theme=PERCEPTION,
        type=LIKERT,
        text=Texts(
            es=(
                "¿Qué tan seguro/a te sientes usando el transporte público en tu barrio, "
                "incluidas las paradas y estaciones?"
            ),
            en=(
                "How safe do you feel using public transport in your area, including stops and "
                "stations?"
            ),
            fr=(
                "Dans quelle mesure vous sentez-vous en sécurité dans les transports en commun de "
                "votre quartier, arrêts et stations compris\u00a0?"
            ),
            pt=(
                "Quão seguro/a você se sente usando o transporte público no seu bairro, incluindo "
                "pontos e estações?"
            ),
        ),
        choices=(
            *SAFETY_SCALE,
            Choice(
                "does-not-apply",
                Texts(
                    es="No uso el transporte público",
                    en="I don’t use public transport",
                    fr="Je n’utilise pas les transports en commun",
                    pt="Não uso transporte público",
                ),
            ),
            DONT_KNOW,
            PREFER_NOT,
        ),
        note=gettext_lazy(
            "Safety on public transport and at its stops (UN Women Safe Cities). Same four-point "
            "scale; leave “I don’t use public transport”, “don’t know” and “prefer not to say” "
            "out of the shares, and report how many said they don’t use it."
        ),
    ),
    # Avoidance -------------------------------------------------------------------------------
    BankItem(
        code="bank-night-out-alone",
        theme=AVOIDANCE,
        type=LIKERT,
        text=Texts(
            es="¿Con qué frecuencia caminas solo/a por tu barrio después del anochecer?",
            en="How often do you walk alone in your area after dark?",
            fr=(
                "À quelle fréquence marchez-vous seul(e) dans votre quartier une fois la nuit "
                "tombée\u00a0?"
            ),
            pt="Com que frequência você caminha sozinho/a pelo seu bairro depois que escurece?",
        ),
        choices=(
            *_choices(
                (
                    "often",
                    Texts(es="Con frecuencia", en="Often", fr="Souvent", pt="Com frequência"),
                ),
                ("sometimes", Texts(es="A veces", en="Sometimes", fr="Parfois", pt="Às vezes")),
                ("rarely", Texts(es="Casi nunca", en="Rarely", fr="Rarement", pt="Raramente")),
                ("never", Texts(es="Nunca", en="Never", fr="Jamais", pt="Nunca")),
            ),
            PREFER_NOT,
        ),
        note=gettext_lazy(
            "Whether residents go out alone after dark at all (UN Women Safe Cities: alone or in "
            "groups, at what times). Not going out is avoidance too, and it hides fear from the "
            "SDG item: read the two together, by gender and age band."
        ),
    ),
    BankItem(
        code="bank-avoid-places",
        theme=AVOIDANCE,
        type=SINGLE_CHOICE,
        text=Texts(
            es=(
                "En los últimos 12 meses, ¿evitaste algún lugar de tu barrio porque no te sentías "
                "seguro/a allí?"
            ),
            en=(
                "In the last 12 months, have you avoided any place in your area because you did "
                "not feel safe there?"
            ),
            fr=(
                "Au cours des 12 derniers mois, avez-vous évité certains lieux de votre quartier "
                "parce que vous ne vous y sentiez pas en sécurité\u00a0?"
            ),
            pt=(
                "Nos últimos 12 meses, você evitou algum lugar do seu bairro por não se sentir "
                "seguro/a lá?"
            ),
        ),
        choices=(YES, NO, PREFER_NOT),
        note=gettext_lazy(
            "Avoidance in the last 12 months (UN Women Safe Cities scoping questions). Asked of "
            "everyone; the share “yes” among those who answered yes or no. The follow-ups (which "
            "places, why, when) appear only after “yes”."
        ),
    ),
    BankItem(
        code="bank-avoid-which",
        theme=AVOIDANCE,
        type=MULTIPLE_CHOICE,
        condition=("bank-avoid-places", "yes"),
        text=Texts(
            es="¿Qué tipo de lugares evitas?",
            en="What kinds of places do you avoid?",
            fr="Quels types de lieux évitez-vous\u00a0?",
            pt="Que tipos de lugar você evita?",
        ),
        help_text=CHOOSE_ALL,
        choices=_choices(
            (
                "streets",
                Texts(
                    es="Calles, pasajes o callejones",
                    en="Streets, paths or alleys",
                    fr="Rues, chemins ou ruelles",
                    pt="Ruas, vielas ou becos",
                ),
            ),
            (
                "parks",
                Texts(
                    es="Parques y zonas verdes",
                    en="Parks and green spaces",
                    fr="Parcs et espaces verts",
                    pt="Praças, parques e áreas verdes",
                ),
            ),
            (
                "transport-stops",
                Texts(
                    es="Paradas y estaciones de transporte público",
                    en="Public transport stops and stations",
                    fr="Arrêts et stations de transport en commun",
                    pt="Pontos de ônibus e estações",
                ),
            ),
            (
                "bridges-underpasses",
                Texts(
                    es="Puentes peatonales, pasos subterráneos o túneles",
                    en="Footbridges, underpasses or tunnels",
                    fr="Passerelles, passages souterrains ou tunnels",
                    pt="Passarelas, passagens subterrâneas ou túneis",
                ),
            ),
            (
                "vacant-lots",
                Texts(
                    es="Lotes baldíos o edificios abandonados",
                    en="Empty lots or abandoned buildings",
                    fr="Terrains vagues ou bâtiments abandonnés",
                    pt="Terrenos baldios ou prédios abandonados",
                ),
            ),
            (
                "markets-shops",
                Texts(
                    es="Mercados y zonas comerciales",
                    en="Markets and shopping streets",
                    fr="Marchés et rues commerçantes",
                    pt="Feiras e áreas de comércio",
                ),
            ),
            (
                "nightlife",
                Texts(
                    es="Bares y zonas de vida nocturna",
                    en="Bars and nightlife areas",
                    fr="Bars et lieux de sortie",
                    pt="Bares e áreas de vida noturna",
                ),
            ),
            (
                "sports",
                Texts(
                    es="Canchas y espacios deportivos",
                    en="Sports grounds",
                    fr="Terrains de sport",
                    pt="Quadras e campos de esporte",
                ),
            ),
            (
                "schools",
                Texts(
                    es="Alrededores de colegios y escuelas",
                    en="Around schools",
                    fr="Abords des écoles",
                    pt="Arredores de escolas",
                ),
            ),
            (
                "other",
                Texts(
                    es="Otros lugares", en="Other places", fr="Autres lieux", pt="Outros lugares"
                ),
            ),
        ),
        note=gettext_lazy(
            "Follow-up to “avoided places” (shown only after “yes”). Kinds of place, not "
            "addresses, so that no answer points at a person; invite residents to mark the "
            "exact places on the consultation’s map as concerns. Shares are of residents who "
            "avoid places."
        ),
    ),
    BankItem(
        code="bank-avoid-why",
        theme=AVOIDANCE,
        type=MULTIPLE_CHOICE,
        condition=("bank-avoid-places", "yes"),
        text=Texts(
            es="¿Por qué los evitas?",
            en="Why do you avoid them?",
            fr="Pourquoi les évitez-vous\u00a0?",
            pt="Por que você os evita?",
        ),
        help_text=CHOOSE_ALL,
        choices=(
            *_choices(
                (
                    "poor-lighting",
                    Texts(
                        es="Poca iluminación",
                        en="Poor lighting",
                        fr="Mauvais éclairage",
                        pt="Pouca iluminação",
                    ),
                ),
                (
                    "few-people",
                    Texts(
                        es="Hay poca gente",
                        en="Few people around",
                        fr="Peu de monde",
                        pt="Pouco movimento de pessoas",
                    ),
                ),
                (
                    "harassment",
                    Texts(
                        es="Acoso o comentarios no deseados",
                        en="Harassment or unwanted comments",
                        fr="Harcèlement ou remarques déplacées",
                        pt="Assédio ou comentários indesejados",
                    ),
                ),
                (
                    "robbery",
                    Texts(
                        es="Miedo a que me roben",
                        en="Fear of being robbed",
                        fr="Peur d’être volé(e)",
                        pt="Medo de ser assaltado/a",
                    ),
                ),
                (
                    "fights",
                    Texts(
                        es="Peleas o violencia",
                        en="Fights or violence",
                        fr="Bagarres ou violences",
                        pt="Brigas ou violência",
                    ),
                ),
                (
                    "drugs-alcohol",
                    Texts(
                        es="Venta o consumo de drogas o alcohol",
                        en="Drug dealing or drug and alcohol use",
                        fr="Trafic ou consommation de drogue ou d’alcool",
                        pt="Venda ou consumo de drogas ou álcool",
                    ),
                ),
                (
                    "groups",
                    Texts(
                        es="Grupos o pandillas que intimidan",
                        en="Groups or gangs that intimidate",
                        fr="Groupes ou bandes qui intimident",
                        pt="Grupos ou gangues que intimidam",
                    ),
                ),
                (
                    "neglect",
                    Texts(
                        es="Basura, abandono o mal estado",
                        en="Rubbish, neglect or disrepair",
                        fr="Déchets, abandon ou mauvais état",
                        pt="Lixo, abandono ou mau estado",
                    ),
                ),
                (
                    "no-help",
                    Texts(
                        es="No hay a quién pedir ayuda",
                        en="Nobody to ask for help",
                        fr="Personne à qui demander de l’aide",
                        pt="Não há a quem pedir ajuda",
                    ),
                ),
            ),
            OTHER_REASON,
        ),
        note=gettext_lazy(
            "Follow-up to “avoided places”. The reasons match the safety-walk audit parameters "
            "(lighting, people around, maintenance, help nearby) and the concern categories, so "
            "the three sources can be read side by side."
        ),
    ),
    BankItem(
        code="bank-avoid-when",
        theme=AVOIDANCE,
        type=TIME_BAND,
        multiple=True,
        condition=("bank-avoid-places", "yes"),
        text=Texts(
            es="¿En qué momentos del día los evitas?",
            en="At what times of day do you avoid them?",
            fr="À quels moments de la journée les évitez-vous\u00a0?",
            pt="Em que horários você os evita?",
        ),
        help_text=CHOOSE_ALL,
        note=gettext_lazy(
            "Follow-up to “avoided places”, with the same time bands as concerns (morning, "
            "afternoon, evening, night, at any time), so answers and concerns can be compared."
        ),
    ),
    # Victimisation ---------------------------------------------------------------------------
    BankItem(
        code="bank-victim",
        theme=VICTIMISATION,
        type=SINGLE_CHOICE,
        text=Texts(
            es=(
                "En los últimos 12 meses, ¿fuiste víctima de algún delito o de violencia en tu "
                "barrio (por ejemplo, un robo, una agresión o amenazas)?"
            ),
            en=(
                "In the last 12 months, have you been the victim of a crime or of violence in "
                "your area (for example a theft, an attack or threats)?"
            ),
            fr=(
                "Au cours des 12 derniers mois, avez-vous été victime d’un délit ou de violences "
                "dans votre quartier (par exemple un vol, une agression ou des menaces)\u00a0?"
            ),
            pt=(
                "Nos últimos 12 meses, você foi vítima de algum crime ou violência no seu bairro "
                "(por exemplo, roubo, agressão ou ameaça)?"
            ),
        ),
        help_text=Texts(
            es="Cuenta también lo que no denunciaste.",
            en="Count it even if you did not report it.",
            fr="Comptez-le même si vous ne l’avez pas signalé.",
            pt="Conte também o que você não denunciou.",
        ),
        choices=(YES, NO, PREFER_NOT),
        note=gettext_lazy(
            "Prevalence of victimisation in the area over the last 12 months, the reference "
            "period of SDG indicators 16.1.3 and 16.3.1. Report it as what residents said they "
            "experienced, never as crime data or a “dangerous area”. The follow-ups (what "
            "happened, reporting) appear only after “yes”."
        ),
    ),
    BankItem(
        code="bank-victim-types",
        theme=VICTIMISATION,
        type=MULTIPLE_CHOICE,
        condition=("bank-victim", "yes"),
        text=Texts(
            es="¿Qué te pasó?",
            en="What happened to you?",
            fr="Que vous est-il arrivé\u00a0?",
            pt="O que aconteceu com você?",
        ),
        help_text=Texts(
            es="Marca todo lo que te haya pasado en los últimos 12 meses.",
            en="Choose everything that happened to you in the last 12 months.",
            fr="Cochez tout ce qui vous est arrivé au cours des 12 derniers mois.",
            pt="Marque tudo o que aconteceu com você nos últimos 12 meses.",
        ),
        choices=_choices(
            (
                "robbery",
                Texts(
                    es="Robo con violencia o amenazas (atraco)",
                    en="Robbery with violence or threats (mugging)",
                    fr="Vol avec violence ou menaces",
                    pt="Roubo com violência ou ameaça (assalto)",
                ),
            ),
            (
                "theft",
                Texts(
                    es=(
                        "Robo sin violencia (por ejemplo, te quitaron el celular sin que te "
                        "dieras cuenta)"
                    ),
                    en=(
                        "Theft without violence (for example, your phone taken without you "
                        "noticing)"
                    ),
                    fr="Vol sans violence (par exemple, votre téléphone pris à votre insu)",
                    pt="Furto sem violência (por exemplo, levaram seu celular sem você perceber)",
                ),
            ),
            (
                "burglary",
                Texts(
                    es="Robo en tu vivienda",
                    en="Burglary (someone broke into your home)",
                    fr="Cambriolage de votre logement",
                    pt="Invasão ou furto na sua casa",
                ),
            ),
            (
                "vehicle",
                Texts(
                    es="Robo de tu vehículo o de algo dentro de él (auto, moto, bicicleta)",
                    en="Theft of or from your vehicle (car, motorbike, bicycle)",
                    fr="Vol de votre véhicule ou dans celui-ci (voiture, moto, vélo)",
                    pt=(
                        "Roubo ou furto do seu veículo ou de algo dentro dele (carro, moto, "
                        "bicicleta)"
                    ),
                ),
            ),
            (
                "assault",
                Texts(
                    es="Agresión física (golpes o empujones)",
                    en="Physical assault (being hit or pushed)",
                    fr="Agression physique (coups, bousculades)",
                    pt="Agressão física (socos ou empurrões)",
                ),
            ),
            (
                "threats",
                Texts(
                    es="Amenazas o intimidación",
                    en="Threats or intimidation",
                    fr="Menaces ou intimidation",
                    pt="Ameaças ou intimidação",
                ),
            ),
            (
                "extortion",
                Texts(
                    es="Extorsión (te exigieron dinero o algo a cambio de no hacerte daño)",
                    en="Extortion (money or something else demanded to leave you alone)",
                    fr=(
                        "Extorsion (on a exigé de l’argent ou autre chose en échange de votre "
                        "tranquillité)"
                    ),
                    pt="Extorsão (exigiram dinheiro ou algo em troca de não fazer mal a você)",
                ),
            ),
            (
                "sexual-harassment",
                Texts(
                    es=(
                        "Acoso sexual en la calle o en el transporte (comentarios, tocamientos, "
                        "que te siguieran)"
                    ),
                    en=(
                        "Sexual harassment in the street or on transport (comments, groping, "
                        "being followed)"
                    ),
                    fr=(
                        "Harcèlement sexuel dans la rue ou les transports (remarques, "
                        "attouchements, être suivi(e))"
                    ),
                    pt="Assédio sexual na rua ou no transporte (comentários, toques, perseguição)",
                ),
            ),
            (
                "sexual-violence",
                Texts(
                    es="Violencia sexual (abuso sexual o violación)",
                    en="Sexual violence (sexual assault or rape)",
                    fr="Violences sexuelles (agression sexuelle ou viol)",
                    pt="Violência sexual (abuso sexual ou estupro)",
                ),
            ),
            (
                "other",
                Texts(es="Otra cosa", en="Something else", fr="Autre chose", pt="Outra coisa"),
            ),
        ),
        note=gettext_lazy(
            "Follow-up to the victimisation question (shown only after “yes”); several types can "
            "be ticked, so shares per type are of residents who answered “yes”. Violence at home "
            "or by a partner is deliberately not asked: it needs a specialised survey with "
            "safeguards. Sexual violence is sensitive: publish area totals only, suppress small "
            "numbers and signpost support services."
        ),
    ),
    # Reporting -------------------------------------------------------------------------------
    BankItem(
        code="bank-reported",
        theme=REPORTING,
        type=SINGLE_CHOICE,
        condition=("bank-victim", "yes"),
        text=Texts(
            es="¿Tú u otra persona denunciaron lo ocurrido ante la policía u otra autoridad?",
            en="Did you or someone else report what happened to the police or another authority?",
            fr=(
                "Les faits ont-ils été signalés à la police ou à une autre autorité, par vous ou "
                "par quelqu’un d’autre\u00a0?"
            ),
            pt="Você ou outra pessoa denunciou o ocorrido à polícia ou a outra autoridade?",
        ),
        help_text=Texts(
            es="Si te pasó más de una vez, piensa en la última.",
            en="If it happened more than once, think of the most recent time.",
            fr="Si cela s’est produit plusieurs fois, pensez à la dernière fois.",
            pt="Se aconteceu mais de uma vez, pense na última.",
        ),
        choices=(YES, NO, DONT_KNOW, PREFER_NOT),
        note=gettext_lazy(
            "The reporting rate, close to SDG indicator 16.3.1. Shown only to residents who were "
            "victims (victimisation question “yes”), so adding it adds that question too. Read "
            "the share “yes” among those who answered yes or no; the rest is the “dark figure” "
            "that recorded crime never shows."
        ),
    ),
    BankItem(
        code="bank-not-reported-why",
        theme=REPORTING,
        type=MULTIPLE_CHOICE,
        condition=("bank-reported", "no"),
        text=Texts(
            es="¿Por qué no se denunció?",
            en="Why was it not reported?",
            fr="Pourquoi les faits n’ont-ils pas été signalés\u00a0?",
            pt="Por que não foi denunciado?",
        ),
        help_text=CHOOSE_ALL,
        choices=(
            *_choices(
                (
                    "not-serious",
                    Texts(
                        es="No era tan grave",
                        en="It was not serious enough",
                        fr="Ce n’était pas assez grave",
                        pt="Não era grave o suficiente",
                    ),
                ),
                (
                    "no-use",
                    Texts(
                        es="No iban a hacer nada",
                        en="Nothing would have been done",
                        fr="Cela n’aurait servi à rien",
                        pt="Não adiantaria nada",
                    ),
                ),
                (
                    "distrust-police",
                    Texts(
                        es="No confío en la policía",
                        en="I don’t trust the police",
                        fr="Je n’ai pas confiance dans la police",
                        pt="Não confio na polícia",
                    ),
                ),
                (
                    "fear-reprisal",
                    Texts(
                        es="Miedo a represalias",
                        en="Fear of reprisals",
                        fr="Peur des représailles",
                        pt="Medo de represálias",
                    ),
                ),
                (
                    "fear-treatment",
                    Texts(
                        es="Miedo a que me trataran mal o no me creyeran",
                        en="Fear of being treated badly or not believed",
                        fr="Peur d’être mal reçu(e) ou de ne pas être cru(e)",
                        pt="Medo de ser maltratado/a ou de não acreditarem em mim",
                    ),
                ),
                (
                    "procedure",
                    Texts(
                        es="El trámite es largo o complicado",
                        en="It takes too long or is too complicated",
                        fr="C’est trop long ou trop compliqué",
                        pt="Demora muito ou é complicado demais",
                    ),
                ),
                (
                    "dont-know-how",
                    Texts(
                        es="No sabía dónde ni cómo hacerlo",
                        en="I didn’t know where or how",
                        fr="Je ne savais pas où ni comment",
                        pt="Não sabia onde nem como",
                    ),
                ),
                (
                    "solved-otherwise",
                    Texts(
                        es="Se resolvió de otra manera",
                        en="It was dealt with in another way",
                        fr="Cela a été réglé autrement",
                        pt="Foi resolvido de outra forma",
                    ),
                ),
            ),
            OTHER_REASON,
        ),
        note=gettext_lazy(
            "Shown only after “not reported” (adding it adds the reporting and victimisation "
            "questions it depends on). The reasons separate problems of trust, of access and of "
            "treatment, which institutions can act on; read them beside the trust items."
        ),
    ),
    # Trust -----------------------------------------------------------------------------------
    _trust(
        "bank-trust-police",
        Texts(
            es="la policía de tu barrio",
            en="the police in your area",
            fr="à la police de votre quartier",
            pt="na polícia do seu bairro",
        ),
        gettext_lazy(
            "Trust on the four-point scale of Latin-American opinion surveys such as "
            "Latinobarómetro (a lot, some, a little, not at all). Read the share “a lot” + "
            "“some” among those who chose a point; “don’t know” and “prefer not to say” are "
            "left out."
        ),
    ),
    _trust(
        "bank-trust-municipality",
        Texts(
            es="el gobierno local (la alcaldía o municipalidad)",
            en="the local government (the municipality)",
            fr="à la municipalité (la mairie)",
            pt="na prefeitura",
        ),
        gettext_lazy(
            "Same scale. Write the name residents use (for example “la Alcaldía Local de "
            "Chapinero”): changing the wording keeps answers counting together."
        ),
    ),
    _trust(
        "bank-trust-justice",
        Texts(
            es="la justicia (fiscalía y juzgados)",
            en="the justice system (prosecutors’ offices and courts)",
            fr="à la justice (parquet et tribunaux)",
            pt="na Justiça (Ministério Público e tribunais)",
        ),
        gettext_lazy(
            "Same scale: the institutions a resident meets after reporting. Read it beside "
            "“nothing would have been done” among the reasons for not reporting."
        ),
    ),
    _trust(
        "bank-trust-community",
        Texts(
            es="las organizaciones comunitarias de tu barrio (juntas vecinales, asociaciones)",
            en="community organisations in your area (residents’ committees, associations)",
            fr="aux associations et comités de votre quartier",
            pt="nas organizações comunitárias do seu bairro (associações de moradores, coletivos)",
        ),
        gettext_lazy(
            "Same scale. Community organisations are a protective factor and the partners of "
            "community prevention; compare trust in them with trust in the institutions."
        ),
    ),
    # Support services for gender-based violence ---------------------------------------------------
    _gbv(
        "bank-gbv-health",
        Texts(
            es="recibir atención de salud",
            en="get health care",
            fr="recevoir des soins",
            pt="buscar atendimento de saúde",
        ),
        gettext_lazy(
            "UNHCR Results Monitoring Survey, GBV01a (health services). One question per kind of "
            "service, as there; report the share “yes” for each. Each says what gender-based "
            "violence is, in case it is added alone."
        ),
    ),
    _gbv(
        "bank-gbv-psychosocial",
        Texts(
            es="recibir apoyo psicológico y social",
            en="get psychological and social support",
            fr="trouver un soutien psychologique et social",
            pt="buscar apoio psicológico e social",
        ),
        gettext_lazy("UNHCR Results Monitoring Survey, GBV01b (psychosocial services)."),
    ),
    _gbv(
        "bank-gbv-protection",
        Texts(
            es="pedir protección, como la policía o un refugio seguro",
            en="get protection, such as the police or a safe shelter",
            fr="demander une protection, comme la police ou un hébergement sûr",
            pt="buscar proteção, como a polícia ou um abrigo seguro",
        ),
        gettext_lazy(
            "UNHCR Results Monitoring Survey, GBV01c (safety and security services: police, "
            "safe shelters)."
        ),
    ),
    _gbv(
        "bank-gbv-legal",
        Texts(
            es="recibir asesoría jurídica",
            en="get legal advice",
            fr="obtenir une aide juridique",
            pt="buscar orientação jurídica",
        ),
        gettext_lazy("UNHCR Results Monitoring Survey, GBV01d (legal assistance)."),
    ),
)

BANK_BY_CODE: dict[str, BankItem] = {item.code: item for item in BANK}


# --- Reading ------------------------------------------------------------------------------------


def bank_language(language: str) -> str:
    """The bank language to write a page in: its own, or Spanish when the bank lacks it."""
    return language if language in LANGUAGES else FALLBACK_LANGUAGE


def bank_ancestors(item: BankItem) -> list[BankItem]:
    """The items `item` depends on, nearest first (a follow-up of a follow-up has two)."""
    ancestors = []
    while item.condition:
        item = BANK_BY_CODE[item.condition[0]]
        ancestors.append(item)
    return ancestors


def bank_blocks(items: Iterable[BankItem], language: str) -> list[dict]:
    """Raw StreamField data for `items`, in `language` (see docs/questionnaires.md)."""
    return [{"type": item.type, "value": item.value(language)} for item in items]


def bank_translations(items: Iterable[BankItem], language: str) -> dict[str, dict[str, str]]:
    """`{text in language: {other language: its text}}` for every text of `items`.

    The shape `offer_translations` takes. Identical source texts (such as "Sí") always have
    identical translations in the bank, so one entry serves them all.
    """
    offered: dict[str, dict[str, str]] = {}
    for item in items:
        for texts in item.texts():
            offered[texts[language]] = {
                other: texts[other] for other in LANGUAGES if other != language
            }
    return offered


def question_bank_page(page: ConsultationPage) -> ConsultationPage:
    """The page whose questionnaire the bank changes for `page`.

    A translation made with wagtail-localize is rebuilt from its source page each time it is
    synchronised, so questions written into it directly would be lost: for such a page the bank
    works on the source page, and the translation receives the questions (already translated,
    see `offer_translations`) at the next synchronisation.
    """
    source = synchronised_source(page)
    return source if isinstance(source, ConsultationPage) else page


def question_bank_present(page: ConsultationPage) -> set[str]:
    """Codes of the questions in the page's latest revision (the draft a facilitator edits)."""
    return _codes(page.get_latest_revision_as_object())


# --- Adding -------------------------------------------------------------------------------------


class QuestionBankRefused(Exception):
    """Nothing was added; `messages` say why, in the active language."""

    def __init__(self, messages: list[str]):
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class QuestionBankAddition:
    page: ConsultationPage  # the page whose new draft revision holds the questions
    revision: object
    language: str
    added: list[BankItem]  # in the order appended
    parents_added: list[BankItem] = field(default_factory=list)  # not chosen, needed by a choice
    skipped: list[BankItem] = field(default_factory=list)  # chosen but already in the questionnaire
    translations_offered: int = 0


def _selection(
    codes: list[str], present: set[str]
) -> tuple[list[BankItem], list[BankItem], list[BankItem]]:
    """(items to append in bank order, parents added unasked, chosen items already present).

    Bank order keeps each follow-up right after the items it depends on; a parent already in the
    questionnaire is earlier than anything appended, so conditions still point back.
    """
    needed = set(codes)
    for code in codes:
        needed.update(parent.code for parent in bank_ancestors(BANK_BY_CODE[code]))
    ordered = [item for item in BANK if item.code in needed and item.code not in present]
    parents = [item for item in ordered if item.code not in codes]
    skipped = [item for item in BANK if item.code in codes and item.code in present]
    return ordered, parents, skipped


def _numbered(index: int, message: str) -> str:
    return _("Question %(number)d: %(message)s") % {"number": index + 1, "message": message}


def _problem_messages(error: ValidationError) -> list[str]:
    """The editor's messages for a questionnaire that does not validate, by question number.

    Block errors nest (question → field → list item → field); the question is the first level.
    """
    if not hasattr(error, "as_json_data"):  # a plain ValidationError, e.g. from the page itself
        return [str(message) for message in error.messages]
    messages: list[str] = []

    def walk(node, index: int | None):
        if isinstance(node, list):
            for child in node:
                walk(child, index)
            return
        if not isinstance(node, dict):
            return
        for message in node.get("messages", []):
            messages.append(message if index is None else _numbered(index, message))
        children = node.get("blockErrors") or {}
        pairs = children.items() if isinstance(children, dict) else enumerate(children)
        for key, child in pairs:
            if child is not None:
                walk(child, int(key) if index is None else index)

    walk(error.as_json_data(), None)
    return messages or [str(message) for message in error.messages]


def _codes(page: ConsultationPage) -> set[str]:
    return {child.value.get("code") for child in page.questionnaire}


def question_bank_add(
    *, page: ConsultationPage, codes: Iterable[str], user
) -> QuestionBankAddition:
    """Append bank items to the questionnaire of `page`'s latest revision, as a new draft.

    Works on the page `question_bank_page` names; writes the items in the page's language (or
    Spanish), adds the items a chosen follow-up depends on, skips items already there, runs the
    editor's checks, saves a draft revision (never publishes: the facilitator reviews the
    Questionnaire tab and publishes) and offers the bank's wording in the other languages to
    wagtail-localize. Raises `QuestionBankRefused` and stores nothing when there is nothing to
    add or the result would not validate.
    """
    codes = list(dict.fromkeys(codes))
    if not codes:
        raise QuestionBankRefused([_("Choose at least one question to add.")])
    unknown = [code for code in codes if code not in BANK_BY_CODE]
    if unknown:
        raise QuestionBankRefused(
            [
                _("These are not questions of the bank: %(codes)s.")
                % {"codes": ", ".join(sorted(unknown))}
            ]
        )

    page = question_bank_page(page)
    latest = page.get_latest_revision_as_object()
    items, parents, skipped = _selection(codes, _codes(latest))
    if not items:
        raise QuestionBankRefused(
            [
                ngettext(
                    "That question is already in the questionnaire.",
                    "Those questions are already in the questionnaire.",
                    len(skipped),
                )
            ]
        )

    language = bank_language(page.locale.language_code)
    raw = list(latest.questionnaire.get_prep_value()) + bank_blocks(items, language)
    latest.questionnaire = questionnaire_stream(raw)
    checks = [
        {
            "type": child.block_type,
            "code": child.value.get("code"),
            "choices": child.block.choice_values(child.value),
            "condition": dict(child.value.get("condition") or {}),
        }
        for child in latest.questionnaire
    ]
    problems = questionnaire_problems(checks)
    if problems:
        raise QuestionBankRefused(
            [
                _numbered(index, message)
                for index, errors in sorted(problems.items())
                for message in errors.values()
            ]
        )
    try:
        QuestionnaireBlock().clean(latest.questionnaire)
    except ValidationError as error:
        raise QuestionBankRefused(_problem_messages(error)) from error

    with transaction.atomic():
        try:
            revision = latest.save_revision(user=user, log_action=True)
        except ValidationError as error:
            raise QuestionBankRefused(_problem_messages(error)) from error
        # The other bank languages; offer_translations ignores those the site has no locale for.
        count = offer_translations(
            latest, bank_translations(items, language), user=user, tool=TOOL_NAME
        )

    return QuestionBankAddition(
        page=latest,
        revision=revision,
        language=language,
        added=items,
        parents_added=parents,
        skipped=skipped,
        translations_offered=count,
    )
