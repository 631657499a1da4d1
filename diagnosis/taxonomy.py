"""The default concern categories, and the seeding that installs them in every language.

A new consultation needs categories residents recognise. These follow the prevention literature
Convive starts from (docs: /work/shared/DOMAIN.md → "Citizen security and prevention"): risk
factors of each prevention type — situational (lighting, abandonment, design), social (exclusion,
lack of opportunities), community (local conditions and institutions) and psychosocial (violence in
the family) — and the protective factors (assets) a local strategy builds on. Facilitators can edit
names or add categories in the admin; `seed_categories` only makes sure the defaults exist.
"""

from dataclasses import dataclass

from django.db import transaction
from wagtail.models import Locale

from .models import ConcernCategory, PreventionType

Icon = ConcernCategory.Icon
Kind = ConcernCategory.Kind

SOURCE_LANGUAGE = "es"


@dataclass(frozen=True)
class CategoryDefault:
    code: str
    icon: str
    kind: str
    prevention_type: str
    sensitive: bool
    sort_order: int
    # language code → (name, one-sentence description)
    text: dict[str, tuple[str, str]]


TAXONOMY: tuple[CategoryDefault, ...] = (
    # --- Risks ----------------------------------------------------------------------------------
    CategoryDefault(
        "poor-lighting",
        Icon.LIGHT,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        10,
        {
            "es": (
                "Alumbrado deficiente",
                "Calles, parques o paraderos oscuros o con luminarias dañadas.",
            ),
            "en": (
                "Poor lighting",
                "Streets, parks or bus stops that are dark or have broken lights.",
            ),
            "fr": (
                "Éclairage insuffisant",
                "Rues, parcs ou arrêts de bus plongés dans le noir ou aux lampadaires en panne.",
            ),
            "pt": (
                "Iluminação precária",
                "Ruas, praças ou pontos de ônibus escuros ou com postes de luz quebrados.",
            ),
        },
    ),
    CategoryDefault(
        "abandoned-places",
        Icon.BUILDING,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        20,
        {
            "es": (
                "Lotes y edificaciones abandonadas",
                "Lotes baldíos, casas o bodegas abandonadas donde alguien puede esconderse.",
            ),
            "en": (
                "Abandoned lots and buildings",
                "Empty lots, abandoned houses or warehouses where someone could hide.",
            ),
            "fr": (
                "Terrains et bâtiments abandonnés",
                "Terrains vagues, maisons ou entrepôts abandonnés où quelqu’un peut se cacher.",
            ),
            "pt": (
                "Terrenos e imóveis abandonados",
                "Terrenos baldios, casas ou galpões abandonados onde alguém pode se esconder.",
            ),
        },
    ),
    CategoryDefault(
        "poor-maintenance",
        Icon.BROOM,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        30,
        {
            "es": (
                "Falta de mantenimiento",
                "Basura, grafitis, andenes rotos o zonas verdes descuidadas que dan sensación de "
                "abandono.",
            ),
            "en": (
                "Lack of maintenance",
                "Rubbish, graffiti, broken pavements or neglected green spaces that make a place "
                "feel abandoned.",
            ),
            "fr": (
                "Manque d’entretien",
                "Déchets, tags, trottoirs défoncés ou espaces verts négligés qui donnent une "
                "impression d’abandon.",
            ),
            "pt": (
                "Falta de manutenção",
                "Lixo, pichações, calçadas quebradas ou áreas verdes descuidadas que passam uma "
                "sensação de abandono.",
            ),
        },
    ),
    CategoryDefault(
        "unsafe-paths",
        Icon.PATH,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        40,
        {
            "es": (
                "Caminos aislados o inseguros",
                "Pasajes, puentes peatonales o senderos solitarios, sin salida o sin nadie cerca "
                "que pueda ayudar.",
            ),
            "en": (
                "Isolated or unsafe paths",
                "Lonely passages, footbridges or trails with no way out and no one nearby to help.",
            ),
            "fr": (
                "Passages isolés ou dangereux",
                "Passages, passerelles ou sentiers déserts, sans issue ni personne à proximité "
                "pour aider.",
            ),
            "pt": (
                "Caminhos isolados ou inseguros",
                "Vielas, passarelas ou trilhas desertas, sem saída e sem ninguém por perto para "
                "ajudar.",
            ),
        },
    ),
    CategoryDefault(
        "street-harassment",
        Icon.PERSON,
        Kind.RISK,
        PreventionType.SOCIAL,
        False,
        50,
        {
            "es": (
                "Acoso callejero a mujeres",
                "Comentarios, persecuciones, tocamientos u otras formas de acoso a mujeres y niñas "
                "en el espacio público.",
            ),
            "en": (
                "Street harassment of women",
                "Comments, following, groping or other harassment of women and girls in public "
                "space.",
            ),
            "fr": (
                "Harcèlement de rue envers les femmes",
                "Remarques, filatures, attouchements ou autres formes de harcèlement envers les "
                "femmes et les filles dans l’espace public.",
            ),
            "pt": (
                "Assédio de rua contra mulheres",
                "Cantadas, perseguições, toques ou outras formas de assédio contra mulheres e "
                "meninas no espaço público.",
            ),
        },
    ),
    CategoryDefault(
        "robbery-theft",
        Icon.WALLET,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        60,
        {
            "es": (
                "Hurtos y atracos",
                "Robo de celulares, bolsos o bicicletas, o a viviendas y comercios, con o sin "
                "violencia.",
            ),
            "en": (
                "Robbery and theft",
                "Theft of phones, bags or bicycles, or from homes and shops, with or without "
                "violence.",
            ),
            "fr": (
                "Vols et agressions",
                "Vols de téléphones, de sacs ou de vélos, cambriolages de logements ou de "
                "commerces, avec ou sans violence.",
            ),
            "pt": (
                "Furtos e roubos",
                "Furto ou roubo de celulares, bolsas, bicicletas, casas ou comércios, com ou sem "
                "violência.",
            ),
        },
    ),
    CategoryDefault(
        "drug-selling",
        Icon.PILL,
        Kind.RISK,
        PreventionType.COMMUNITY,
        False,
        70,
        {
            "es": (
                "Venta de drogas",
                "Puntos de venta de drogas y el movimiento que generan en la cuadra.",
            ),
            "en": (
                "Drug selling",
                "Places where drugs are sold and the comings and goings they bring to the block.",
            ),
            "fr": (
                "Trafic de drogue",
                "Points de deal et les allées et venues qu’ils entraînent dans la rue.",
            ),
            "pt": (
                "Venda de drogas",
                "Pontos de venda de drogas e o movimento que eles trazem para a rua.",
            ),
        },
    ),
    CategoryDefault(
        "alcohol-violence",
        Icon.BOTTLE,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        80,
        {
            "es": (
                "Violencia asociada al alcohol",
                "Riñas, ruido y agresiones alrededor de bares, licoreras o del consumo en la "
                "calle.",
            ),
            "en": (
                "Alcohol-related violence",
                "Fights, noise and assaults around bars, liquor stores or drinking in the street.",
            ),
            "fr": (
                "Violences liées à l’alcool",
                "Bagarres, tapage et agressions autour des bars, des débits de boissons ou de "
                "l’alcool consommé dans la rue.",
            ),
            "pt": (
                "Violência ligada ao álcool",
                "Brigas, barulho e agressões em volta de bares, adegas ou do consumo de bebida na "
                "rua.",
            ),
        },
    ),
    CategoryDefault(
        "gangs",
        Icon.GROUP,
        Kind.RISK,
        PreventionType.SOCIAL,
        False,
        90,
        {
            "es": (
                "Pandillas",
                "Grupos que controlan esquinas o parques, intimidan a los vecinos o se enfrentan "
                "entre sí.",
            ),
            "en": (
                "Gangs",
                "Groups that control corners or parks, intimidate neighbours or fight one another.",
            ),
            "fr": (
                "Bandes",
                "Groupes qui tiennent des coins de rue ou des parcs, intimident les habitants ou "
                "s’affrontent entre eux.",
            ),
            "pt": (
                "Gangues",
                "Grupos que dominam esquinas ou praças, intimidam os moradores ou brigam entre si.",
            ),
        },
    ),
    CategoryDefault(
        "youth-without-opportunities",
        Icon.PERSON,
        Kind.RISK,
        PreventionType.SOCIAL,
        False,
        100,
        {
            "es": (
                "Jóvenes sin oportunidades",
                "Falta de estudio, empleo, cultura o deporte para adolescentes y jóvenes del "
                "barrio.",
            ),
            "en": (
                "Young people without opportunities",
                "Too few chances for local teenagers and young adults to study, work, or take part "
                "in culture and sport.",
            ),
            "fr": (
                "Jeunes sans perspectives",
                "Manque d’accès aux études, à l’emploi, à la culture ou au sport pour les "
                "adolescents et les jeunes du quartier.",
            ),
            "pt": (
                "Jovens sem oportunidades",
                "Falta de estudo, trabalho, cultura ou esporte para adolescentes e jovens do "
                "bairro.",
            ),
        },
    ),
    CategoryDefault(
        "traffic-danger",
        Icon.CAR,
        Kind.RISK,
        PreventionType.SITUATIONAL,
        False,
        110,
        {
            "es": (
                "Peligro vial",
                "Exceso de velocidad, cruces sin semáforo ni paso peatonal y motos por los "
                "andenes.",
            ),
            "en": (
                "Traffic danger",
                "Speeding, crossings with no lights or zebra crossing, and motorbikes on the "
                "pavement.",
            ),
            "fr": (
                "Danger de la circulation",
                "Vitesse excessive, traversées sans feux ni passage piéton, deux-roues sur les "
                "trottoirs.",
            ),
            "pt": (
                "Perigo no trânsito",
                "Excesso de velocidade, travessias sem semáforo nem faixa de pedestres e motos nas "
                "calçadas.",
            ),
        },
    ),
    CategoryDefault(
        "police-conduct",
        Icon.BADGE,
        Kind.RISK,
        PreventionType.COMMUNITY,
        False,
        120,
        {
            "es": (
                "Actuación policial",
                "Maltrato, abusos, o una policía que no está o no responde cuando se la necesita.",
            ),
            "en": (
                "Police conduct",
                "Mistreatment, abuse, or police who are not there or do not respond when needed.",
            ),
            "fr": (
                "Comportement de la police",
                "Mauvais traitements, abus, ou une police absente ou qui ne réagit pas quand on "
                "en a besoin.",
            ),
            "pt": (
                "Atuação da polícia",
                "Maus-tratos, abusos, ou uma polícia que não aparece ou não responde quando é "
                "preciso.",
            ),
        },
    ),
    CategoryDefault(
        "domestic-violence",
        Icon.HOME,
        Kind.RISK,
        PreventionType.PSYCHOSOCIAL,
        True,
        130,
        {
            "es": (
                "Violencia intrafamiliar",
                "Violencia física, psicológica, sexual o económica en el hogar o en la pareja; "
                "nunca se muestra en el mapa.",
            ),
            "en": (
                "Domestic violence",
                "Physical, psychological, sexual or economic violence at home or by a partner; "
                "never shown on the map.",
            ),
            "fr": (
                "Violences conjugales et familiales",
                "Violences physiques, psychologiques, sexuelles ou économiques au foyer ou dans "
                "le couple ; jamais affichées sur la carte.",
            ),
            "pt": (
                "Violência doméstica",
                "Violência física, psicológica, sexual ou patrimonial em casa ou pelo parceiro; "
                "nunca aparece no mapa.",
            ),
        },
    ),
    CategoryDefault(
        "violence-against-children",
        Icon.CHILD,
        Kind.RISK,
        PreventionType.PSYCHOSOCIAL,
        True,
        140,
        {
            "es": (
                "Violencia contra niñas, niños y adolescentes",
                "Maltrato, abuso o explotación de menores de edad; nunca se muestra en el mapa.",
            ),
            "en": (
                "Violence against children",
                "Abuse, mistreatment or exploitation of children and adolescents; never shown on "
                "the map.",
            ),
            "fr": (
                "Violences envers les enfants",
                "Maltraitance, abus ou exploitation d’enfants et d’adolescents ; jamais affichés "
                "sur la carte.",
            ),
            "pt": (
                "Violência contra crianças e adolescentes",
                "Maus-tratos, abuso ou exploração de crianças e adolescentes; nunca aparece no "
                "mapa.",
            ),
        },
    ),
    # --- Assets (protective factors) -----------------------------------------------------------
    CategoryDefault(
        "community-centre",
        Icon.HOUSE_HEART,
        Kind.ASSET,
        PreventionType.COMMUNITY,
        False,
        210,
        {
            "es": (
                "Centro comunitario",
                "Salones comunales, bibliotecas o casas de la cultura donde la comunidad se "
                "encuentra.",
            ),
            "en": (
                "Community centre",
                "Community halls, libraries or cultural centres where neighbours get together.",
            ),
            "fr": (
                "Centre communautaire",
                "Salles de quartier, bibliothèques ou maisons de la culture où les habitants se "
                "retrouvent.",
            ),
            "pt": (
                "Centro comunitário",
                "Associações de moradores, bibliotecas ou casas de cultura onde a comunidade se "
                "encontra.",
            ),
        },
    ),
    CategoryDefault(
        "well-lit-route",
        Icon.LIGHT,
        Kind.ASSET,
        PreventionType.SITUATIONAL,
        False,
        220,
        {
            "es": (
                "Ruta bien iluminada",
                "Un recorrido iluminado y concurrido que la gente prefiere para caminar de noche.",
            ),
            "en": ("Well-lit route", "A lit, busy route that people prefer to walk after dark."),
            "fr": (
                "Itinéraire bien éclairé",
                "Un trajet éclairé et fréquenté que l’on préfère emprunter à pied le soir.",
            ),
            "pt": (
                "Rota bem iluminada",
                "Um trajeto iluminado e movimentado que as pessoas preferem para andar à noite.",
            ),
        },
    ),
    CategoryDefault(
        "safe-place",
        Icon.SHOP,
        Kind.ASSET,
        PreventionType.COMMUNITY,
        False,
        230,
        {
            "es": (
                "Comercio o lugar seguro",
                "Una tienda, droguería o local donde se puede pedir ayuda o esperar con "
                "tranquilidad.",
            ),
            "en": (
                "Safe shop or refuge",
                "A shop, pharmacy or other place where you can ask for help or wait safely.",
            ),
            "fr": (
                "Commerce ou lieu refuge",
                "Une boutique, une pharmacie ou un lieu où demander de l’aide ou attendre en "
                "sécurité.",
            ),
            "pt": (
                "Comércio ou lugar seguro",
                "Uma loja, farmácia ou lugar onde dá para pedir ajuda ou esperar com "
                "tranquilidade.",
            ),
        },
    ),
    CategoryDefault(
        "school",
        Icon.SCHOOL,
        Kind.ASSET,
        PreventionType.SOCIAL,
        False,
        240,
        {
            "es": (
                "Escuela o colegio",
                "Escuelas y colegios que acogen a niñas, niños y jóvenes y abren sus puertas a la "
                "comunidad.",
            ),
            "en": (
                "School",
                "Schools that look after children and young people and open their doors to the "
                "community.",
            ),
            "fr": (
                "École",
                "Écoles et collèges qui accueillent enfants et jeunes et s’ouvrent au quartier.",
            ),
            "pt": (
                "Escola",
                "Escolas que acolhem crianças e jovens e abrem as portas para a comunidade.",
            ),
        },
    ),
    CategoryDefault(
        "sports-ground",
        Icon.BALL,
        Kind.ASSET,
        PreventionType.SOCIAL,
        False,
        250,
        {
            "es": (
                "Cancha o espacio deportivo",
                "Canchas, parques y polideportivos donde niñas, niños y jóvenes juegan y entrenan.",
            ),
            "en": (
                "Sports ground",
                "Pitches, parks and sports centres where children and young people play and train.",
            ),
            "fr": (
                "Terrain de sport",
                "Terrains, parcs et gymnases où les enfants et les jeunes jouent et s’entraînent.",
            ),
            "pt": (
                "Quadra ou espaço esportivo",
                "Quadras, campos e centros esportivos onde crianças e jovens jogam e treinam.",
            ),
        },
    ),
    CategoryDefault(
        "health-post",
        Icon.HEALTH,
        Kind.ASSET,
        PreventionType.PSYCHOSOCIAL,
        False,
        260,
        {
            "es": (
                "Puesto de salud",
                "Centros de salud donde también orientan a quienes viven situaciones de violencia.",
            ),
            "en": (
                "Health post",
                "Health centres that can also advise people who are living with violence.",
            ),
            "fr": (
                "Centre de santé",
                "Centres de santé qui peuvent aussi orienter les personnes confrontées à la "
                "violence.",
            ),
            "pt": (
                "Posto de saúde",
                "Unidades de saúde que também orientam quem está passando por situações de "
                "violência.",
            ),
        },
    ),
)


@dataclass(frozen=True)
class SeedReport:
    created: int
    updated: int
    unchanged: int


def _apply(row: ConcernCategory, default: CategoryDefault, language: str) -> bool:
    """Copy the default's values onto `row`; True when anything changed."""
    name, description = default.text[language]
    values = {
        "name": name,
        "description": description,
        "icon": default.icon,
        "kind": default.kind,
        "prevention_type": default.prevention_type,
        "sensitive": default.sensitive,
        "sort_order": default.sort_order,
    }
    changed = False
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    return changed


@transaction.atomic
def categories_seed(*, languages: tuple[str, ...] = ("es", "en", "fr", "pt")) -> SeedReport:
    """Create or update the default categories in every language, matched by code and locale.

    The Spanish row is the source; every other language is a translation of it (same
    `translation_key`), so concerns submitted in any language count together. Re-running
    refreshes names and descriptions and never creates a second row for a code and locale.
    """
    locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in languages}
    source_locale = locales.get(SOURCE_LANGUAGE) or Locale.get_default()
    created = updated = unchanged = 0
    for default in TAXONOMY:
        rows = {
            row.locale_id: row
            for row in ConcernCategory.objects.filter(
                code=default.code, locale__in=locales.values()
            )
        }
        source = rows.get(source_locale.pk)
        if source is None:
            source = ConcernCategory(locale=source_locale, code=default.code)
            _apply(source, default, SOURCE_LANGUAGE)
            source.save()
            created += 1
        elif _apply(source, default, SOURCE_LANGUAGE):
            source.save()
            updated += 1
        else:
            unchanged += 1
        for language, locale in locales.items():
            if locale.pk == source_locale.pk:
                continue
            row = rows.get(locale.pk)
            if row is None:
                row = source.copy_for_translation(locale)
                _apply(row, default, language)
                row.save()
                created += 1
            elif _apply(row, default, language):
                row.save()
                updated += 1
            else:
                unchanged += 1
    return SeedReport(created=created, updated=updated, unchanged=unchanged)
