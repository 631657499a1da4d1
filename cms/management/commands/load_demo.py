"""Build the demo site: real Chapinero (Bogotá) boundaries, a consultation in Spanish and English
with a few hundred realistic concerns in moderation, questionnaire answers, a day and a night
safety walk of the same route with published reports, then the diagnosis cycle (a previous round,
a snapshot, a results page with named problems, prioritisation with ballots), and accounts to log
in with. It lives in `cms` because it builds the whole site, pages of every layer included.

    manage.py load_demo [--concerns 300] [--responses 240] [--reset] [--password SECRET]

Idempotent: a second run leaves the one demo as it is (use --reset to rebuild it) and only resets
the demo accounts' passwords, so the credentials printed at the end are always true. Concerns go
through `concern_submit` and moderation through the moderation service, like a resident's and a
moderator's would, so the demo obeys the same data rules as real use. See docs/demo.md.
"""

import base64
import io
import logging
import random
import secrets
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import LineString, Point
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import Locale, Site

from cms.demo_programme import demo_programme_build, demo_programme_delete
from cms.models import HomePage, ResultsPage, ResultsProblem
from cms.problems_admin import quotable_concerns, results_page_prepare
from diagnosis.models import (
    Concern,
    ConcernCategory,
    ConsultationPage,
    DiagnosisRun,
    DiagnosisSnapshot,
    PrioritisationBallot,
    QuestionnaireResponse,
    SnapshotPublication,
)
from diagnosis.publication import published_tables
from diagnosis.question_bank import BANK_BY_CODE, bank_blocks, bank_translations
from diagnosis.questionnaire_blocks import questionnaire_stream
from diagnosis.services import concern_submit, questionnaire_submit
from diagnosis.services.diagnosis_runs import diagnosis_run_execute, diagnosis_run_start
from diagnosis.services.prioritisation import ballot_clean, ballot_problems, ballot_submit
from diagnosis.services.questionnaires import questionnaire_questions
from diagnosis.taxonomy import categories_seed
from maps.models import (
    WALK_PARAMETER_FIELDS,
    Area,
    ModerationStatus,
    SafetyWalk,
    WalkParticipants,
    WalkStop,
)
from maps.walks import walk_stop_record

logger = logging.getLogger("convive.demo")

DATA = Path(settings.BASE_DIR) / "maps" / "data" / "bogota"
SOURCE = "Bogotá open data / IDECA (Infraestructura de Datos Espaciales de Bogotá)"
LICENCE = "Official open data of Bogotá D.C. — credit: «Límites: IDECA – Bogotá D.C.»"
DISTRICT_PREFIX = "BOG-LOC-"
CHAPINERO_CODE = f"{DISTRICT_PREFIX}02"
SLUG_ES = "chapinero"
SLUG_EN = "chapinero-cares"
SEED = 7
# The demo questionnaire: question-bank items (docs/question-bank.md), in this order.
DEMO_QUESTIONS = (
    "bank-safe-night",
    "bank-safe-day",
    "bank-safe-transport",
    "bank-avoid-places",
    "bank-avoid-which",
    "bank-avoid-why",
    "bank-avoid-when",
    "bank-victim",
    "bank-victim-types",
    "bank-reported",
    "bank-not-reported-why",
    "bank-trust-police",
    "bank-trust-municipality",
    "bank-gbv-protection",
)
DEMO_RESPONSES = 240

INTRO_ES = (
    "<p>¿Qué te hace sentir inseguro o insegura en Chapinero, y qué lugares te hacen sentir "
    "protegido? Cuéntanos en menos de dos minutos, sin registrarte: marca el lugar en el mapa o "
    "descríbelo, y dinos cuándo pasa y a quién afecta.</p>"
    "<p>Con lo que cuenten vecinas y vecinos, la alcaldía local y las organizaciones del barrio "
    "harán un diagnóstico participativo. Luego priorizaremos juntos los problemas y publicaremos "
    "los compromisos y su avance.</p>"
)
INTRO_EN = (
    "<p>What makes you feel unsafe in Chapinero, and which places make you feel safe? Tell us in "
    "under two minutes, without signing up: mark the place on the map or describe it, and say when "
    "it happens and who it affects.</p>"
    "<p>From what residents tell us, the local government and neighbourhood organisations will "
    "build a participatory diagnosis. Then we will prioritise the problems together and publish "
    "the commitments and their progress.</p>"
)
PRIVACY_ES = (
    "<p>Esta es una consulta de demostración de Convive. No necesitas cuenta y no guardamos tu "
    "dirección IP. El punto exacto que marques solo lo ve el equipo que analiza los datos; en el "
    "mapa público aparece aproximado en una cuadrícula, y los temas sensibles (violencia "
    "intrafamiliar o contra niñas, niños y adolescentes) nunca se muestran como puntos. Todo lo "
    "que se publica pasa antes por moderación. Si estás en peligro, llama a la Línea 123.</p>"
)
PRIVACY_EN = (
    "<p>This is a Convive demonstration consultation. You need no account and we do not store "
    "your IP address. Only the team analysing the data sees the exact point you mark; the public "
    "map shows it approximately, on a grid, and sensitive topics (domestic violence, violence "
    "against children) are never shown as points. Everything published is moderated first. If "
    "you are in danger, call 123.</p>"
)

# Short, realistic reports per category: what residents of a Latin-American city typically write.
DESCRIPTIONS = {
    "poor-lighting": (
        (
            "El parque queda totalmente oscuro después de las 6 de la tarde.",
            "Hay dos postes de luz dañados hace meses en esta cuadra.",
            "El paradero del bus no tiene luz y da miedo esperar de noche.",
            "Los árboles tapan las luminarias y la acera queda en penumbra.",
            "La escalera que sube a la carrera está sin iluminación.",
        ),
        (
            "The park is completely dark after 6 pm.",
            "Two street lights on this block have been broken for months.",
            "The bus stop has no light and waiting there at night is scary.",
            "Trees cover the street lights and the pavement is in shadow.",
            "The stairs up to the main road have no lighting at all.",
        ),
    ),
    "abandoned-places": (
        (
            "Hay un lote baldío con el cerramiento roto donde se mete gente.",
            "La casa abandonada de la esquina la usan para consumir.",
            "Una obra parada hace años, llena de basura y sin vigilancia.",
            "El local cerrado tiene la entrada cubierta y alguien puede esconderse ahí.",
            "Bodega abandonada; de noche se ven personas entrando.",
        ),
        (
            "An empty lot with a broken fence where people get in.",
            "The abandoned house on the corner is used for drug use.",
            "A building site stopped years ago, full of rubbish and unguarded.",
            "The closed shop has a covered doorway where someone could hide.",
            "Abandoned warehouse; at night you see people going in.",
        ),
    ),
    "poor-maintenance": (
        (
            "Basura acumulada en la esquina y el andén levantado.",
            "El pasto del parque está altísimo y no se ve nada.",
            "Grafitis y vidrios rotos en el puente peatonal.",
            "Las canecas están rotas y la basura queda regada toda la semana.",
            "Huecos en el andén; las personas mayores se caen.",
        ),
        (
            "Rubbish piling up on the corner and a broken pavement.",
            "The grass in the park is so tall you can't see anything.",
            "Graffiti and broken glass on the footbridge.",
            "The bins are broken and rubbish lies around all week.",
            "Potholes in the pavement; older people fall over.",
        ),
    ),
    "unsafe-paths": (
        (
            "El sendero de la quebrada es solitario y no tiene salida.",
            "Pasaje estrecho entre dos muros, nadie ve lo que pasa adentro.",
            "El camino a la universidad por los cerros queda desolado.",
            "Debajo del puente no hay nadie que pueda ayudar si pasa algo.",
            "La escalera entre las dos calles es larga y sin visibilidad.",
        ),
        (
            "The path along the stream is lonely and has no way out.",
            "A narrow passage between two walls; nobody sees what happens inside.",
            "The way to the university across the hills is deserted.",
            "Under the bridge there is nobody to help if something happens.",
            "The long stairway between the two streets has no visibility.",
        ),
    ),
    "street-harassment": (
        (
            "Los hombres que se parquean en la esquina les gritan cosas a las mujeres.",
            "Me siguieron desde la estación hasta la casa.",
            "En la fila del bus hay hombres que se pegan a las mujeres.",
            "Mis hijas no quieren pasar por aquí por los comentarios.",
            "Un conductor se detiene a decir groserías a las estudiantes.",
        ),
        (
            "Men hanging out on the corner shout things at women.",
            "I was followed from the station all the way home.",
            "In the bus queue some men press up against women.",
            "My daughters won't walk past here because of the comments.",
            "A driver stops to say obscene things to the students.",
        ),
    ),
    "robbery-theft": (
        (
            "Roban celulares a la salida del transporte público.",
            "Dos personas en moto atracan a quienes caminan solos.",
            "Se robaron varias bicicletas de este parqueadero.",
            "Entraron a robar a dos apartamentos del edificio este mes.",
            "Raponean bolsos en el semáforo cuando los carros paran.",
        ),
        (
            "Phones get snatched at the exit of the bus station.",
            "Two people on a motorbike rob anyone walking alone.",
            "Several bicycles were stolen from this parking area.",
            "Two flats in the building were burgled this month.",
            "Bags are snatched at the traffic light when cars stop.",
        ),
    ),
    "drug-selling": (
        (
            "Venden droga en la esquina del parque a toda hora.",
            "Hay un punto de venta cerca del colegio.",
            "Mucho movimiento de motos que paran un momento y se van.",
            "Los niños ven cómo venden en la cancha.",
            "Desde que abrió ese expendio la cuadra cambió.",
        ),
        (
            "Drugs are sold on the corner of the park at all hours.",
            "There is a selling point near the school.",
            "Lots of motorbikes that stop for a moment and leave.",
            "Children watch the dealing at the sports ground.",
            "Since that selling point opened the block has changed.",
        ),
    ),
    "alcohol-violence": (
        (
            "Los fines de semana hay riñas a la salida de los bares.",
            "La licorera vende hasta la madrugada y la gente toma en la calle.",
            "Peleas y botellas rotas en la zona rosa los viernes.",
            "Hombres borrachos molestan a quienes pasan.",
            "El ruido y las peleas no dejan dormir y da miedo salir.",
        ),
        (
            "At weekends there are fights outside the bars.",
            "The liquor store sells until dawn and people drink in the street.",
            "Fights and broken bottles in the nightlife area on Fridays.",
            "Drunk men bother people walking by.",
            "The noise and fights keep us awake and make it scary to go out.",
        ),
    ),
    "gangs": (
        (
            "Un grupo de muchachos cobra por dejar pasar por el parque.",
            "Hay enfrentamientos entre grupos de dos barrios.",
            "Intimidan a los vecinos que se quejan.",
            "Se reúnen en la cancha y no dejan jugar a nadie más.",
            "Los jóvenes del grupo reclutan a niños del sector.",
        ),
        (
            "A group of young men charges people to cross the park.",
            "Groups from two neighbourhoods clash with each other.",
            "They intimidate neighbours who complain.",
            "They take over the pitch and don't let anyone else play.",
            "The group recruits children from the area.",
        ),
    ),
    "youth-without-opportunities": (
        (
            "Los jóvenes no tienen dónde ir después del colegio.",
            "No hay cursos ni empleo para los muchachos del barrio.",
            "Cerraron la casa de la juventud y no hay nada a cambio.",
            "Muchos jóvenes dejaron de estudiar y pasan el día en la calle.",
            "Faltan actividades culturales y deportivas gratuitas.",
        ),
        (
            "Young people have nowhere to go after school.",
            "No courses and no jobs for the neighbourhood's young people.",
            "The youth centre closed and nothing replaced it.",
            "Many young people dropped out and spend the day on the street.",
            "There are no free cultural or sports activities.",
        ),
    ),
    "traffic-danger": (
        (
            "Los carros bajan a toda velocidad y no hay paso peatonal.",
            "Las motos se suben al andén para evitar el trancón.",
            "No hay semáforo en el cruce de la salida del colegio.",
            "Los buses no respetan la cebra.",
            "Cruzar la avenida con niños es muy peligroso.",
        ),
        (
            "Cars come down at full speed and there is no crossing.",
            "Motorbikes ride on the pavement to avoid the traffic jam.",
            "There is no traffic light at the crossing by the school gate.",
            "Buses don't stop at the zebra crossing.",
            "Crossing the avenue with children is very dangerous.",
        ),
    ),
    "police-conduct": (
        (
            "Llamamos al cuadrante y nunca llega.",
            "Los policías tratan mal a los jóvenes que están en el parque.",
            "No hay presencia policial de noche en esta zona.",
            "Piden papeles solo a los migrantes.",
            "Cuando uno denuncia no pasa nada.",
        ),
        (
            "We call the local patrol and it never comes.",
            "The police treat young people in the park badly.",
            "There is no police presence here at night.",
            "They ask only migrants for their papers.",
            "When you report something, nothing happens.",
        ),
    ),
    "domestic-violence": (
        (
            "Se escuchan gritos y golpes en una casa de la cuadra casi todas las noches.",
            "Una vecina tiene miedo de su pareja y no sabe a dónde acudir.",
            "Las mujeres del sector no conocen las rutas de atención.",
            "Hay mucha violencia en los hogares y nadie se mete.",
            "Falta un lugar cerca donde orienten a las mujeres.",
        ),
        (
            "You hear shouting and blows from a house on the block almost every night.",
            "A neighbour is afraid of her partner and doesn't know where to go.",
            "Women here don't know where to get help.",
            "There is a lot of violence at home and nobody steps in.",
            "There is no place nearby that advises women.",
        ),
    ),
    "violence-against-children": (
        (
            "Se ven niños solos en la calle hasta muy tarde.",
            "Niños del sector trabajan en los semáforos.",
            "A la salida del colegio hay adultos que se acercan a los niños.",
            "Se escucha que castigan muy fuerte a unos niños.",
            "Falta información sobre cómo denunciar el maltrato infantil.",
        ),
        (
            "Children are seen alone in the street until very late.",
            "Local children work at the traffic lights.",
            "Adults approach children at the school gate.",
            "You can hear some children being punished very harshly.",
            "People don't know how to report child abuse.",
        ),
    ),
    "community-centre": (
        (
            "El salón comunal está abierto en las tardes y hay actividades.",
            "La biblioteca del barrio es un lugar tranquilo para los niños.",
            "En la casa de la cultura hay talleres gratis para jóvenes.",
            "La junta de acción comunal se reúne aquí cada mes.",
            "Aquí organizan ollas comunitarias y todo el mundo se conoce.",
        ),
        (
            "The community hall is open in the afternoons and has activities.",
            "The neighbourhood library is a calm place for children.",
            "The cultural centre runs free workshops for young people.",
            "The residents' association meets here every month.",
            "Community meals are organised here and everyone knows each other.",
        ),
    ),
    "well-lit-route": (
        (
            "Prefiero bajar por esta calle: tiene luz y locales abiertos.",
            "La ciclorruta está bien iluminada y siempre hay gente.",
            "Este es el camino que usamos para volver de noche.",
            "Desde que cambiaron las luminarias se siente más seguro.",
            "Ruta iluminada hasta la estación, con vigilancia.",
        ),
        (
            "I prefer to walk down this street: it is lit and shops are open.",
            "The cycle lane is well lit and there are always people.",
            "This is the way we use to come home at night.",
            "It feels safer since the street lights were replaced.",
            "A lit route to the station, with security guards.",
        ),
    ),
    "safe-place": (
        (
            "En esta tienda el señor siempre ayuda si alguien lo necesita.",
            "La droguería abre hasta tarde y uno puede esperar adentro.",
            "Panadería donde las mujeres pueden pedir ayuda.",
            "El portero del edificio está pendiente de la calle.",
            "Este café es un punto seguro para esperar el taxi.",
        ),
        (
            "The shopkeeper here always helps if someone needs it.",
            "The pharmacy is open late and you can wait inside.",
            "A bakery where women can ask for help.",
            "The doorman of this building keeps an eye on the street.",
            "This café is a safe place to wait for a taxi.",
        ),
    ),
    "school": (
        (
            "El colegio abre la cancha los sábados para la comunidad.",
            "Los profesores acompañan a los niños hasta el paradero.",
            "En la escuela hay orientación para las familias.",
            "El colegio tiene entornos escolares protectores.",
            "Aquí hay jornada extendida con arte y deporte.",
        ),
        (
            "The school opens its pitch to the community on Saturdays.",
            "Teachers walk the children to the bus stop.",
            "The school offers guidance to families.",
            "The school has a safe-route programme around it.",
            "There is an extended school day with art and sport.",
        ),
    ),
    "sports-ground": (
        (
            "La cancha siempre tiene gente jugando hasta las 9 de la noche.",
            "Hay escuela de fútbol gratuita para niñas y niños.",
            "El parque tiene gimnasio al aire libre y es muy concurrido.",
            "Los domingos hacen ciclovía y el barrio se llena de familias.",
            "El polideportivo tiene entrenadores y buena luz.",
        ),
        (
            "The pitch always has people playing until 9 pm.",
            "There is a free football school for girls and boys.",
            "The park has an outdoor gym and is always busy.",
            "On Sundays the street is closed to cars and fills with families.",
            "The sports centre has coaches and good lighting.",
        ),
    ),
    "health-post": (
        (
            "En el centro de salud atienden y orientan a víctimas de violencia.",
            "El puesto de salud tiene psicóloga los martes.",
            "Aquí hacen jornadas de salud mental para jóvenes.",
            "El CAMI atiende urgencias toda la noche.",
            "Nos orientaron muy bien sobre las rutas de atención.",
        ),
        (
            "The health centre treats and advises victims of violence.",
            "The health post has a psychologist on Tuesdays.",
            "They run mental health days for young people here.",
            "The clinic takes emergencies all night.",
            "They gave us good advice on where to get help.",
        ),
    ),
}

PLACES = (
    ("El paradero de la Carrera Séptima", "The bus stop on Carrera Séptima"),
    ("Bajo el puente peatonal de la Avenida Caracas", "Under the Avenida Caracas footbridge"),
    ("La escalera que sube a la Circunvalar", "The stairs up to the Circunvalar"),
    ("El parque detrás de la iglesia", "The park behind the church"),
    ("La salida de la estación de TransMilenio", "The TransMilenio station exit"),
    ("El sendero de la quebrada", "The path along the stream"),
    ("La cuadra de los bares", "The block with the bars"),
)

NIGHT_HEAVY = {
    "poor-lighting",
    "street-harassment",
    "unsafe-paths",
    "alcohol-violence",
    "drug-selling",
    "gangs",
    "abandoned-places",
    "well-lit-route",
}
DAY_HEAVY = {"traffic-danger", "school", "health-post", "community-centre", "sports-ground"}
AFFECTED = {
    "street-harassment": (["women"], ["women", "lgbti"], ["me", "women"]),
    "violence-against-children": (["children"], ["children", "youth"]),
    "domestic-violence": (["women"], ["women", "children"]),
    "youth-without-opportunities": (["youth"], ["youth", "children"]),
    "gangs": (["youth"], ["everyone"], ["youth", "children"]),
    "traffic-danger": (["everyone"], ["children", "older"], ["older", "disabled"]),
    "police-conduct": (["youth"], ["migrants"], ["everyone"], ["me"]),
}
DEFAULT_AFFECTED = (["everyone"], ["women"], ["older"], ["me"], ["children"], [])
REJECT_REASONS = (
    "Incluye datos personales de otra persona.",
    "Mensaje duplicado.",
    "No trata sobre la seguridad del barrio.",
)

# --- Safety walks -------------------------------------------------------------------------------
# The same route walked by day and again at night, so the demo report has a day/night comparison.
# The route is hand-placed along Carrera 13 in Chapinero Central, from Calle 57 north to the Plaza
# de Lourdes (about 800 m, inside the real barrio boundary); it is not traced from a street map.
WALK_ROUTE = (
    (-74.0655, 4.6418),
    (-74.0648, 4.6443),
    (-74.0641, 4.6466),
    (-74.0634, 4.6487),
)
# Fixed identifiers: a second run finds the walks, --reset deletes exactly these.
WALK_UUIDS = {
    "day": uuid.uuid5(uuid.NAMESPACE_URL, "https://convive.invalid/demo/walk/carrera-13/day"),
    "night": uuid.uuid5(uuid.NAMESPACE_URL, "https://convive.invalid/demo/walk/carrera-13/night"),
}
WALK_DAYS_AGO = 12
WALK_PARTICIPANTS = {
    "day": [
        ("women", "18-29", 5),
        ("women", "30-44", 4),
        ("women", "45-64", 3),
        ("men", "30-44", 2),
    ],
    "night": [("women", "18-29", 4), ("women", "30-44", 5), ("women", "45-64", 2)],
}
# Parts of the route and what the group found there, by day and at night: the mean score of each
# condition (0–3) around which stops are drawn, and the hazards likely there.
WALK_STRETCHES = (
    # From Calle 57: shops and a TransMilenio feeder stop, busy by day, shuttered at night.
    {
        "day": {
            "lighting": 2.6,
            "openness": 2.2,
            "visibility": 2.6,
            "people": 2.8,
            "security": 1.4,
            "walk_path": 1.6,
            "transport": 2.8,
            "gender_diversity": 2.5,
        },
        "night": {
            "lighting": 1.6,
            "openness": 2.0,
            "visibility": 1.2,
            "people": 1.0,
            "security": 0.8,
            "walk_path": 1.6,
            "transport": 2.4,
            "gender_diversity": 0.9,
        },
        "hazards": ["maintenance", "no_toilet"],
    },
    # A long wall of a parking lot and a closed building: the stretch people avoid.
    {
        "day": {
            "lighting": 2.2,
            "openness": 1.2,
            "visibility": 1.0,
            "people": 1.6,
            "security": 0.6,
            "walk_path": 1.2,
            "transport": 1.2,
            "gender_diversity": 1.8,
        },
        "night": {
            "lighting": 0.5,
            "openness": 0.8,
            "visibility": 0.4,
            "people": 0.3,
            "security": 0.2,
            "walk_path": 1.0,
            "transport": 0.8,
            "gender_diversity": 0.3,
        },
        "hazards": ["isolated", "entrapment", "no_help", "maintenance"],
    },
    # Bars and restaurants towards Lourdes: lively at night, but crowded and little policing.
    {
        "day": {
            "lighting": 2.4,
            "openness": 2.0,
            "visibility": 2.4,
            "people": 2.4,
            "security": 1.2,
            "walk_path": 1.8,
            "transport": 2.2,
            "gender_diversity": 2.2,
        },
        "night": {
            "lighting": 1.8,
            "openness": 1.8,
            "visibility": 2.0,
            "people": 2.0,
            "security": 1.0,
            "walk_path": 1.4,
            "transport": 2.0,
            "gender_diversity": 1.2,
        },
        "hazards": ["signage", "no_help"],
    },
)
WALK_NOTES = {
    "lighting": ("Poste apagado frente al parqueadero.", "La luz no alcanza la acera."),
    "openness": ("Muro largo sin ventanas.", "Esquina ciega: no se ve quién viene."),
    "people": ("Casi nadie en la calle.", "Solo pasan carros."),
    "visibility": ("Locales cerrados con persiana.", "Nadie mira hacia la calle."),
    "walk_path": ("Andén roto y con huecos.", "Hay que bajarse a la calzada."),
    "good": ("Hay tiendas abiertas y gente.", "Buena iluminación y vigilante en la esquina."),
}


# --- The diagnosis cycle ------------------------------------------------------------------------
# After listening, the demo runs the diagnosis, publishes a results page with three problems named
# from it, and opens the prioritisation with ballots already cast (docs/demo.md).
PRIORITISATION_DAYS = 14
DEMO_BALLOTS = 36
RESULTS_INTRO_ES = (
    "<p>Estos son los resultados del diagnóstico participativo de Chapinero: lo que vecinas y "
    "vecinos reportaron y sintieron, quiénes participaron y los problemas que el equipo de la "
    "alcaldía local identificó a partir de esos datos.</p>"
    "<p>Ahora te toca priorizar: reparte tus puntos entre los problemas para decidir por cuál "
    "empezar.</p>"
)
RESULTS_INTRO_EN = (
    "<p>These are the results of Chapinero's participatory diagnosis: what residents reported and "
    "felt, who took part, and the problems the local government team identified from them.</p>"
    "<p>Now it is your turn to prioritise: share your points among the problems to decide where "
    "to start.</p>"
)
RESULTS_NOTES_ES = (
    "<p>Datos de demostración: los reportes, respuestas y caminatas de esta consulta son "
    "inventados para mostrar cómo funciona Convive.</p>"
)
RESULTS_NOTES_EN = (
    "<p>Demonstration data: this consultation's concerns, answers and walks were invented to "
    "show how Convive works.</p>"
)
# Problems the facilitator could name, each from its lead category (first code) and the others it
# covers. The demo names the three whose lead category residents reported most, in the barrios where
# the published numbers show it most; `{areas}` is filled with those barrios' names.
PROBLEM_THEMES = (
    {
        "codes": ("poor-lighting", "unsafe-paths"),
        "title": (
            ("Calles y senderos oscuros de noche en {areas}", "Calles y senderos oscuros de noche"),
            ("Dark streets and paths at night in {areas}", "Dark streets and paths at night"),
        ),
        "description": (
            "Luminarias dañadas o tapadas por los árboles, escaleras y senderos sin luz: al caer "
            "la tarde, quienes vuelven del trabajo o del estudio evitan estas calles o dan largos "
            "rodeos.",
            "Broken street lights or lights hidden by trees, unlit stairs and paths: after dusk, "
            "people coming home from work or school avoid these streets or make long detours.",
        ),
    },
    {
        "codes": ("street-harassment",),
        "title": (
            (
                "Acoso a mujeres en la calle y los paraderos de {areas}",
                "Acoso a mujeres en la calle",
            ),
            ("Street harassment of women in {areas}", "Street harassment of women"),
        ),
        "description": (
            "Comentarios, persecuciones y tocamientos en esquinas, filas del bus y salidas de "
            "estaciones, sobre todo al anochecer. Muchas mujeres y niñas cambian su ruta por esto.",
            "Comments, following and groping on corners, in bus queues and at station exits, "
            "mostly in the evening. Many women and girls change their route because of it.",
        ),
    },
    {
        "codes": ("robbery-theft",),
        "title": (
            ("Robos a quienes caminan solos en {areas}", "Robos a quienes caminan solos"),
            ("Robberies of people walking alone in {areas}", "Robberies of people walking alone"),
        ),
        "description": (
            "Raponazos de celulares y bolsos a la salida del transporte público y en los "
            "semáforos, a menudo por personas en moto.",
            "Phones and bags snatched at public transport exits and traffic lights, often by "
            "people on motorbikes.",
        ),
    },
    {
        "codes": ("alcohol-violence",),
        "title": (
            ("Riñas a la salida de los bares en {areas}", "Riñas a la salida de los bares"),
            ("Fights outside the bars in {areas}", "Fights outside the bars"),
        ),
        "description": (
            "Los fines de semana, peleas, botellas rotas y personas ebrias que molestan a quienes "
            "pasan, cerca de bares y licoreras que venden hasta la madrugada.",
            "At weekends, fights, broken bottles and drunk people bothering passers-by near bars "
            "and liquor stores that sell until dawn.",
        ),
    },
    {
        "codes": ("drug-selling", "gangs"),
        "title": (
            ("Venta de drogas en parques y canchas de {areas}", "Venta de drogas en parques"),
            ("Drug selling in the parks and pitches of {areas}", "Drug selling in the parks"),
        ),
        "description": (
            "Puntos de venta a toda hora cerca de parques, canchas y colegios; niñas, niños y "
            "jóvenes lo ven a diario y las familias dejan de usar esos espacios.",
            "Selling points at all hours near parks, pitches and schools; children and young "
            "people see it every day and families stop using those places.",
        ),
    },
    {
        "codes": ("abandoned-places", "poor-maintenance"),
        "title": (
            ("Lotes y casas abandonados en {areas}", "Lotes y casas abandonados"),
            ("Abandoned lots and houses in {areas}", "Abandoned lots and houses"),
        ),
        "description": (
            "Lotes sin cerramiento, obras paradas y casas vacías llenas de basura donde alguien "
            "puede esconderse; de noche nadie pasa por ahí.",
            "Unfenced lots, stalled building sites and empty houses full of rubbish where someone "
            "could hide; at night nobody walks past them.",
        ),
    },
    {
        "codes": ("traffic-danger",),
        "title": (
            ("Cruces peligrosos para peatones en {areas}", "Cruces peligrosos para peatones"),
            ("Dangerous crossings for pedestrians in {areas}", "Dangerous crossings"),
        ),
        "description": (
            "Carros y motos a toda velocidad, sin semáforo ni paso peatonal a la salida de los "
            "colegios; cruzar con niños o personas mayores da miedo.",
            "Cars and motorbikes at full speed, with no traffic light or crossing at the school "
            "gates; crossing with children or older people is frightening.",
        ),
    },
)
PROBLEM_AREAS = 2  # barrios named per problem, at most
# How residents tend to share their points: the first problem is most residents' favourite.
BALLOT_PREFERENCES = (5, 3, 2)
# The previous round: a smaller consultation a year earlier in the same barrios, so the results
# page can show the change. More lighting and fewer harassment reports than now; residents a bit
# more afraid after dark.
PREVIOUS_SLUG = "chapinero-2025"
PREVIOUS_TITLE = "Chapinero se cuida 2025"
PREVIOUS_INTRO = (
    "<p>Primera ronda del diagnóstico participativo de Chapinero. Sus resultados son la línea de "
    "base con la que se compara la ronda actual.</p>"
)
PREVIOUS_CONCERNS = 150
PREVIOUS_RESPONSES = 120
PREVIOUS_TILT = {"poor-lighting": 2.0, "unsafe-paths": 1.5, "street-harassment": 0.6}
PREVIOUS_FEAR = 0.08


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


class Command(BaseCommand):
    help = gettext_lazy(
        "Build the Chapinero demo: boundaries, consultation (es/en), concerns and accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concerns", type=int, default=300, help=gettext_lazy("How many concerns.")
        )
        parser.add_argument(
            "--responses",
            type=int,
            default=DEMO_RESPONSES,
            help=gettext_lazy("How many questionnaire responses."),
        )
        parser.add_argument(
            "--reset", action="store_true", help=gettext_lazy("Delete and rebuild the demo.")
        )
        parser.add_argument(
            "--password",
            help=gettext_lazy("Password for the demo accounts (default: a new random one)."),
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        count = options["concerns"]
        if count < 0:
            raise CommandError(_("--concerns must be zero or more."))
        if options["responses"] < 0:
            raise CommandError(_("--responses must be zero or more."))
        if not connection.in_atomic_block:
            # A demo build is hundreds of small commits, and waiting for the disk on each one is
            # most of the time. An interrupted build is simply rerun with --reset, so don't wait.
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute("PRAGMA synchronous = OFF")
                elif connection.vendor == "postgresql":
                    cursor.execute("SET synchronous_commit TO OFF")
        home = self._home("es")
        en_home = self._home("en")

        barrios = self._areas(reset=options["reset"])
        categories_seed()
        users = self._users(password=options["password"])

        existing = ConsultationPage.objects.child_of(home).filter(slug=SLUG_ES).first()
        if options["reset"]:
            demo_programme_delete(home=home)
        if existing is not None and options["reset"]:
            self._delete(existing.specific)
            existing = None
        previous = ConsultationPage.objects.child_of(home).filter(slug=PREVIOUS_SLUG).first()
        if previous is not None and (options["reset"] or not self._published(previous)):
            self._delete(previous.specific)  # --reset, or left half-built by an interrupted run
            previous = None
        if existing is None:
            page, en_page = self._consultation(home, en_home, barrios)
            made = self._concerns(page, en_page, barrios, count, users["facilitadora"][0])
            self._moderate(page, users["moderador"][0])
            answered = self._responses(
                page, en_page, users["facilitadora"][0], options["responses"]
            )
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo built: %(count)d concerns, %(responses)d questionnaire responses.")
                    % {"count": made, "responses": answered}
                )
            )
        else:
            page = existing.specific
            en_page = page.get_translations().filter(locale__language_code="en").first()
            self.stdout.write(_("The demo already exists; use --reset to rebuild it."))
        walks = self._walks(page, en_page, barrios, users, reset=options["reset"])
        if walks:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo safety walks: %(stops)d approved stops, reports published.")
                    % {"stops": walks}
                )
            )
        facilitator = users["facilitadora"][0]
        if previous is None:
            previous = self._previous_round(home, barrios, users)
        self._previous_link(page, en_page, previous.specific)
        snapshot = self._snapshot(page, facilitator)
        results = self._results(page, en_page, snapshot, facilitator)
        ballots = self._ballots(page, en_page)
        if ballots:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Demo diagnosis: snapshot %(snapshot)d, results page published with "
                        "%(problems)d problems, %(ballots)d ballots cast."
                    )
                    % {
                        "snapshot": snapshot.pk,
                        "problems": results[0].problems.count(),
                        "ballots": ballots,
                    }
                )
            )
        programme = demo_programme_build(
            home=home,
            en_home=en_home,
            results=results[0],
            facilitator=facilitator,
            moderator=users["moderador"][0],
        )
        self._print(page, en_page, results, users, programme)

    # --- Pieces ---------------------------------------------------------------------------------

    def _home(self, language: str) -> HomePage:
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
        root = site.root_page.specific if site else None
        if not isinstance(root, HomePage):
            raise CommandError(
                _("The site has no Convive home page: run `manage.py migrate` first.")
            )
        if language == root.locale.language_code:
            return root
        home = HomePage.objects.filter(
            translation_key=root.translation_key, locale__language_code=language
        ).first()
        if home is None:
            raise CommandError(
                _("The home page has no '%(language)s' translation: run migrate.")
                % {"language": language}
            )
        return home

    def _areas(self, *, reset: bool) -> list[Area]:
        barrios = list(
            Area.objects.filter(parent__code=CHAPINERO_CODE, level=Area.Level.NEIGHBOURHOOD)
        )
        if len(barrios) < 74 or reset:
            quiet = io.StringIO() if self.verbosity < 2 else self.stdout
            call_command(
                "import_areas",
                str(DATA / "localidades.geojson"),
                "--name-field=LocNombre",
                "--code-field=LocCodigo",
                "--level=district",
                f"--code-prefix={DISTRICT_PREFIX}",
                f"--source={SOURCE}",
                f"--licence={LICENCE}",
                stdout=quiet,
            )
            call_command(
                "import_areas",
                str(DATA / "chapinero_barrios.geojson"),
                "--name-field=SCANOMBRE",
                "--code-field=SCACODIGO",
                "--level=neighbourhood",
                f"--parent={CHAPINERO_CODE}",
                f"--source={SOURCE}",
                f"--licence={LICENCE}",
                stdout=quiet,
            )
            barrios = list(
                Area.objects.filter(parent__code=CHAPINERO_CODE, level=Area.Level.NEIGHBOURHOOD)
            )
        if not barrios:
            raise CommandError(
                _("No Chapinero barrios were imported; see the import output above.")
            )
        return sorted(barrios, key=lambda area: area.code)

    def _users(self, *, password: str | None) -> dict[str, tuple]:
        """The demo accounts, with fresh passwords every run so the printout is always true."""
        try:
            from diagnosis.services.groups import groups_ensure
        except ImportError:
            groups_ensure = None
        if groups_ensure is not None:
            groups_ensure()
        for name in ("Facilitators", "Moderators"):
            Group.objects.get_or_create(name=name)

        User = get_user_model()
        accounts = {
            "admin": {"is_superuser": True, "is_staff": True, "group": None},
            "facilitadora": {"is_superuser": False, "is_staff": False, "group": "Facilitators"},
            "moderador": {"is_superuser": False, "is_staff": False, "group": "Moderators"},
        }
        result = {}
        for username, spec in accounts.items():
            user, _created = User.objects.get_or_create(username=username)
            # No e-mail addresses: the demo must not send moderators a notice per concern.
            user.email = ""
            user.is_active = True
            user.is_superuser = spec["is_superuser"]
            user.is_staff = spec["is_staff"]
            secret = password or secrets.token_urlsafe(9)
            user.set_password(secret)
            user.save()
            if spec["group"]:
                user.groups.add(Group.objects.get(name=spec["group"]))
            result[username] = (user, secret)
        return result

    def _delete(self, page: ConsultationPage) -> None:
        """Everything the demo made for a consultation, in an order the foreign keys allow:
        ballots; results pages (their problems and snapshot publications go with them, and they
        protect the snapshot); the runs (a snapshot and its rows only ever go with their run);
        then what residents sent, and the pages."""
        key = page.translation_key
        translations = list(page.get_translations(inclusive=True))
        PrioritisationBallot.objects.filter(consultation_key=key).delete()
        for translation in translations:
            for results in ResultsPage.objects.child_of(translation):
                results.delete()
        SnapshotPublication.objects.filter(consultation_key=key).delete()
        DiagnosisRun.objects.filter(consultation_key=key).delete()
        Concern.objects.filter(consultation_key=key).delete()
        QuestionnaireResponse.objects.filter(consultation_key=key).delete()
        for translation in translations:
            translation.delete()

    @staticmethod
    def _published(page) -> bool:
        """The consultation has a published results page (what a previous round needs)."""
        return SnapshotPublication.objects.filter(consultation_key=page.translation_key).exists()

    @transaction.atomic
    def _consultation(self, home: HomePage, en_home: HomePage, barrios: list[Area]):
        es, en = Locale.objects.get(language_code="es"), Locale.objects.get(language_code="en")
        now = timezone.now()
        page = ConsultationPage(
            title="Chapinero se cuida",
            slug=SLUG_ES,
            locale=es,
            intro=INTRO_ES,
            privacy_notice=PRIVACY_ES,
            phase=ConsultationPage.Phase.LISTENING,
            opens_at=now,
            closes_at=now + timedelta(days=60),
        )
        home.add_child(instance=page)
        page.areas.set(barrios)
        page.categories.set(ConcernCategory.objects.filter(locale=es))
        items = [BANK_BY_CODE[code] for code in DEMO_QUESTIONS]
        page.questionnaire = questionnaire_stream(bank_blocks(items, "es"))
        page.save_revision().publish()

        en_page = page.copy_for_translation(en)
        en_page.questionnaire = _translated(page.questionnaire.raw_data, items, "en")
        en_page.title = en_page.draft_title = "Chapinero Cares"
        en_page.slug = SLUG_EN
        en_page.intro = INTRO_EN
        en_page.privacy_notice = PRIVACY_EN
        en_page.save()
        en_page.areas.set(barrios)
        en_page.categories.set(ConcernCategory.objects.filter(locale=en))
        en_page.save_revision().publish()
        page.refresh_from_db()
        en_page.refresh_from_db()
        if en_page.get_parent().pk != en_home.pk:
            raise CommandError(_("The English consultation was not placed under the English home."))
        return page, en_page

    def _concerns(self, page, en_page, barrios, count, facilitator, *, seed=SEED, tilt=None) -> int:
        """Submit `count` concerns through the real service, reproducibly (random seed 7).

        Another `seed` draws other concerns in the same barrios (the previous round); `tilt`
        multiplies some categories' weights. Without `en_page` every concern is in Spanish.
        """
        rng = random.Random(SEED)
        categories = {
            language: {
                c.code: c for c in ConcernCategory.objects.filter(locale__language_code=language)
            }
            for language in ("es", "en")
        }
        codes = sorted(DESCRIPTIONS)
        # Risks are reported more than assets; each category has a few barrios where it clusters,
        # so the demo map and diagnosis show patterns rather than noise.
        weights = [
            (1 if categories["es"][code].kind == "asset" else 3) * (tilt or {}).get(code, 1)
            for code in codes
        ]
        hot = {code: set(rng.sample(range(len(barrios)), 4)) for code in codes}
        if seed != SEED:
            rng = random.Random(seed)  # the same hot barrios, other concerns
        prepared = [area.geometry.prepared for area in barrios]
        extents = [area.geometry.extent for area in barrios]

        made = 0
        for _attempt in range(count):
            code = rng.choices(codes, weights=weights)[0]
            english = rng.random() < 0.1 and en_page is not None
            language = "en" if english else "es"
            consultation = en_page if english else page
            index = rng.choices(
                range(len(barrios)),
                weights=[8 if i in hot[code] else 1 for i in range(len(barrios))],
            )[0]
            source = _weighted(rng, {"online": 92, "paper": 5, "facilitator": 3})
            # Most residents drop a pin; some only pick their barrio or describe the place.
            point = self._point_in(rng, prepared[index], extents[index])
            roll = rng.random()
            if point is not None and roll < 0.88:
                where = {"point": point}
            elif roll < 0.94:
                where = {"area": barrios[index]}
            else:
                place = rng.choice(PLACES)
                where = {"place_description": place[1] if english else place[0]}
            gender = _weighted(
                rng,
                {"unsaid": 30, "": 10, "woman": 35, "man": 20, "non-binary": 3, "other": 2},
            )
            concern_submit(
                consultation=consultation,
                category=categories[language][code],
                idempotency_key=uuid.UUID(int=rng.getrandbits(128), version=4),
                language=language,
                description=rng.choice(DESCRIPTIONS[code][1 if english else 0]),
                time_band=self._time_band(rng, code),
                day_type=_weighted(
                    rng,
                    {"weekend": 60, "both": 30, "weekday": 10}
                    if code == "alcohol-violence"
                    else {"weekday": 30, "weekend": 20, "both": 40, "": 10},
                ),
                frequency=_weighted(
                    rng, {"once": 10, "sometimes": 35, "often": 35, "always": 15, "": 5}
                ),
                affected=list(rng.choice(AFFECTED.get(code, DEFAULT_AFFECTED))),
                gender=gender,
                gender_description=(
                    ("gender-fluid" if english else "género fluido") if gender == "other" else ""
                ),
                age_band=_weighted(
                    rng,
                    {
                        "unsaid": 30,
                        "12-17": 6,
                        "18-29": 20,
                        "30-44": 20,
                        "45-64": 15,
                        "65+": 7,
                        "": 2,
                    },
                ),
                source=source,
                entered_by=facilitator if source != "online" else None,
                **where,
            )
            made += 1
        return made

    def _responses(
        self, page, en_page, facilitator, count: int, *, seed=SEED, fear_shift=0.0
    ) -> int:
        """Questionnaire answers through the real service, reproducibly (random seed 7).

        Answers lean the way perception surveys usually do: women and older residents feel less
        safe after dark than by day, and most victims did not report. Some were typed in from
        paper forms by the facilitator.
        """
        rng = random.Random(seed)
        questions = {
            language: {q.code: q for q in questionnaire_questions(consultation)}
            for language, consultation in (("es", page), ("en", en_page))
            if consultation is not None
        }
        made = 0
        for _index in range(count):
            english = rng.random() < 0.15 and en_page is not None
            language = "en" if english else "es"
            gender = _weighted(rng, {"woman": 50, "man": 38, "non-binary": 3, "unsaid": 9})
            age_band = _weighted(
                rng, {"12-17": 6, "18-29": 28, "30-44": 30, "45-64": 24, "65+": 12}
            )
            fear = 0.55 if gender == "woman" else 0.35
            fear += (0.1 if age_band == "65+" else 0) + fear_shift
            answers = _demo_answers(rng, questions[language], fear)
            paper = rng.random() < 0.12
            questionnaire_submit(
                consultation=en_page if english else page,
                answers=answers,
                language=language,
                idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
                gender=gender,
                age_band=age_band,
                source="paper" if paper else "online",
                entered_by=facilitator if paper else None,
                enforce_open=not paper,
            )
            made += 1
        return made

    @staticmethod
    def _point_in(rng: random.Random, prepared, extent) -> Point | None:
        west, south, east, north = extent
        for _attempt in range(60):
            point = Point(rng.uniform(west, east), rng.uniform(south, north), srid=4326)
            if prepared.contains(point):
                return point
        return None

    @staticmethod
    def _time_band(rng: random.Random, code: str) -> str:
        if code in NIGHT_HEAVY:
            table = {"morning": 5, "afternoon": 10, "evening": 38, "night": 37, "any": 7, "": 3}
        elif code in DAY_HEAVY:
            table = {"morning": 35, "afternoon": 35, "evening": 15, "night": 3, "any": 10, "": 2}
        else:
            table = {"morning": 15, "afternoon": 25, "evening": 25, "night": 20, "any": 12, "": 3}
        return _weighted(rng, table)

    def _moderate(self, page: ConsultationPage, moderator) -> None:
        """Approve about 80 %, reject a few with a reason, leave the rest in the queue."""
        try:
            from diagnosis.services.moderation import concern_moderate
        except ImportError:
            concern_moderate = None
        rng = random.Random(SEED + 1)
        concerns = Concern.objects.filter(consultation_key=page.translation_key).order_by("pk")
        for concern in concerns:
            roll = rng.random()
            if roll < 0.80:
                status, reason = Concern.Status.APPROVED, ""
            elif roll < 0.85:
                status, reason = Concern.Status.REJECTED, rng.choice(REJECT_REASONS)
            else:
                continue
            if concern_moderate is not None:
                concern_moderate(concern=concern, user=moderator, status=status, reason=reason)
            else:
                concern.status = status
                concern.moderation_reason = reason
                concern.moderated_at = timezone.now()
                concern.save(update_fields=["status", "moderation_reason", "moderated_at"])

    # --- Safety walks ---------------------------------------------------------------------------

    def _walks(self, page, en_page, barrios, users, *, reset: bool) -> int:
        """The day and night walks of Carrera 13, their stops, moderation and published reports,
        linked to the consultation. Returns how many stops were made (0 if the walks existed)."""
        if reset:
            SafetyWalk.objects.filter(uuid__in=WALK_UUIDS.values()).delete()
        existing = SafetyWalk.objects.filter(uuid__in=WALK_UUIDS.values())
        made = 0
        if existing.count() < len(WALK_UUIDS):
            existing.delete()  # half a pair from an interrupted run: rebuild both
            made = self._walks_build(barrios, users)
        walks = list(SafetyWalk.objects.filter(uuid__in=WALK_UUIDS.values()))
        for consultation in (page, en_page):
            if consultation is None:
                continue
            consultation = consultation.specific
            linked = {walk.pk for walk in consultation.walks.all()}
            if not {walk.pk for walk in walks} <= linked:
                consultation.walks.add(*walks)
                consultation.save_revision().publish()
        return made

    def _walks_build(self, barrios, users) -> int:
        rng = random.Random(SEED + 2)
        route = LineString(WALK_ROUTE, srid=4326)
        areas = [area for area in barrios if area.geometry.intersects(route)]
        facilitator = users["facilitadora"][0]
        when = timezone.localdate() - timedelta(days=WALK_DAYS_AGO)
        day = self._walk_create(
            "day",
            title="Carrera 13, de la calle 57 a Lourdes",
            when=when,
            starts=time(10, 0),
            band=SafetyWalk.TimeBand.DAY,
            light=SafetyWalk.Light.DAYLIGHT,
            weather=SafetyWalk.Weather.CLOUDY,
            route=route,
            areas=areas,
            facilitator=facilitator,
        )
        night = self._walk_create(
            "night",
            title="Carrera 13, de la calle 57 a Lourdes (de noche)",
            when=when,
            starts=time(19, 30),
            band=SafetyWalk.TimeBand.NIGHT,
            light=SafetyWalk.Light.DARK_LIT,
            weather=SafetyWalk.Weather.CLEAR,
            route=route,
            areas=areas,
            facilitator=facilitator,
            repeats=day,
        )
        made = self._walk_stops(day, "day", 21, rng, facilitator)
        made += self._walk_stops(night, "night", 18, rng, facilitator)
        for walk in (day, night):
            self._walk_finish(walk, users)
        return made

    @staticmethod
    def _walk_create(
        key, *, title, when, starts, band, light, weather, route, areas, facilitator, repeats=None
    ) -> SafetyWalk:
        walk = SafetyWalk.objects.create(
            uuid=WALK_UUIDS[key],
            title=title,
            route=route,
            meeting_point=Point(*WALK_ROUTE[0], srid=4326),
            meeting_place="Carrera 13 con calle 57, esquina nororiental",
            date=when,
            starts_at=starts,
            time_band=band,
            target_group=SafetyWalk.TargetGroup.WOMEN,
            facilitator=facilitator,
            light=light,
            weather=weather,
            repeats=repeats,
            repeat_kind=SafetyWalk.RepeatKind.OTHER_TIME if repeats else "",
        )
        walk.areas.set(areas)
        walk.save()  # a ParentalManyToManyField is written when its owner is saved
        for gender, age_band, count in WALK_PARTICIPANTS[key]:
            WalkParticipants.objects.create(
                walk=walk, gender=gender, age_band=age_band, count=count
            )
        return walk

    def _walk_stops(self, walk, key, count, rng, facilitator) -> int:
        """Record `count` stops through `walk_stop_record`, spread along the route, with scores
        drawn around each stretch's means and a feeling that follows them (dark, empty and
        closed-in places feel unsafe), as a group would record them."""
        route = walk.route
        start = timezone.make_aware(datetime.combine(walk.date, walk.starts_at))
        for index in range(count):
            fraction = (index + rng.uniform(0.2, 0.8)) / count
            stretch = WALK_STRETCHES[min(int(fraction * len(WALK_STRETCHES)), 2)]
            on_route = route.interpolate_normalized(fraction)
            # GPS is a few metres off the street.
            point = Point(
                on_route.x + rng.uniform(-0.00008, 0.00008),
                on_route.y + rng.uniform(-0.00008, 0.00008),
                srid=4326,
            )
            scores = {}
            for name in WALK_PARAMETER_FIELDS:
                if rng.random() < 0.08:
                    scores[name] = None  # not observed
                    continue
                value = round(stretch[key][name] + rng.uniform(-0.9, 0.9))
                scores[name] = min(max(value, 0), 3)
            observed = [scores[n] for n in ("lighting", "openness", "people", "visibility")]
            observed = [value for value in observed if value is not None] or [1.5]
            risk = 3 - sum(observed) / len(observed) + rng.uniform(-0.5, 0.5)
            if risk < 1.3:
                feeling = WalkStop.Feeling.COMFORTABLE
            elif risk < 2.2:
                feeling = WalkStop.Feeling.UNCOMFORTABLE
            else:
                feeling = WalkStop.Feeling.FRIGHTENING
            hazards = [code for code in stretch["hazards"] if rng.random() < 0.25 + risk / 6]
            worst = min(
                (n for n in WALK_NOTES if n != "good" and scores.get(n) is not None),
                key=lambda n: scores[n],
                default="good",
            )
            if feeling == WalkStop.Feeling.COMFORTABLE:
                worst = "good"
            notes = rng.choice(WALK_NOTES[worst]) if rng.random() < 0.7 else ""
            walk_stop_record(
                walk=walk,
                idempotency_key=uuid.UUID(int=rng.getrandbits(128), version=4),
                point=point,
                located_by=WalkStop.Located.GPS,
                accuracy_m=round(rng.uniform(6, 25), 1),
                feeling=feeling,
                scores=scores,
                hazards=hazards,
                notes=notes,
                recorded_at=start + timedelta(minutes=4 * index + rng.randint(0, 2)),
                recorded_by=facilitator,
                language="es",
            )
        return count

    def _walk_finish(self, walk, users) -> None:
        """Mark the walk done, approve its stops and publish its report, through the moderation
        services when they are installed (else directly, and say so in the log)."""
        SafetyWalk.objects.filter(pk=walk.pk).update(status=SafetyWalk.Status.DONE)
        walk.refresh_from_db()
        stops = list(WalkStop.objects.filter(walk=walk).order_by("pk"))
        moderator, admin = users["moderador"][0], users["admin"][0]
        decider = moderator if moderator.has_perm("maps.moderate_walkstop") else admin
        try:
            from maps.walk_moderation import walk_report_publish, walk_stop_moderate_bulk
        except ImportError:
            walk_report_publish = walk_stop_moderate_bulk = None
        if walk_stop_moderate_bulk is not None:
            walk_stop_moderate_bulk(stops=stops, user=decider, status=ModerationStatus.APPROVED)
            walk_report_publish(walk=walk, user=admin)
        else:
            logger.warning(
                "maps.walk_moderation is not installed: approving the demo walk %s's stops and "
                "publishing its report directly, without log entries.",
                walk.uuid,
            )
            WalkStop.objects.filter(walk=walk).update(
                status=ModerationStatus.APPROVED, moderated_at=timezone.now()
            )
            SafetyWalk.objects.filter(pk=walk.pk).update(report_published_at=timezone.now())

    # --- The diagnosis cycle --------------------------------------------------------------------

    def _previous_round(self, home: HomePage, barrios: list[Area], users) -> ConsultationPage:
        """A smaller consultation a year earlier in the same barrios, Spanish only, listened to,
        diagnosed and published the same way as the main one, then closed."""
        es = Locale.objects.get(language_code="es")
        facilitator, moderator = users["facilitadora"][0], users["moderador"][0]
        with transaction.atomic():
            page = ConsultationPage(
                title=PREVIOUS_TITLE,
                slug=PREVIOUS_SLUG,
                locale=es,
                intro=PREVIOUS_INTRO,
                privacy_notice=PRIVACY_ES,
                phase=ConsultationPage.Phase.LISTENING,
                show_in_menus=False,
            )
            home.add_child(instance=page)
            page.areas.set(barrios)
            page.categories.set(ConcernCategory.objects.filter(locale=es))
            items = [BANK_BY_CODE[code] for code in DEMO_QUESTIONS]
            page.questionnaire = questionnaire_stream(bank_blocks(items, "es"))
            page.save_revision().publish()
            page.refresh_from_db()
        self._concerns(
            page,
            None,
            barrios,
            PREVIOUS_CONCERNS,
            facilitator,
            seed=SEED + 20,
            tilt=PREVIOUS_TILT,
        )
        self._moderate(page, moderator)
        self._responses(
            page, None, facilitator, PREVIOUS_RESPONSES, seed=SEED + 20, fear_shift=PREVIOUS_FEAR
        )
        snapshot = self._snapshot(page, facilitator)
        results = results_page_prepare(snapshot=snapshot, user=facilitator)
        results = results.get_latest_revision_as_object()
        results.intro = PREVIOUS_INTRO
        results.method_notes = RESULTS_NOTES_ES
        results.save_revision(user=facilitator, log_action=True).publish(user=facilitator)
        # Listening is over: the round is closed, its dates a year before the current one.
        page = ConsultationPage.objects.get(pk=page.pk)
        now = timezone.now()
        page.phase = ConsultationPage.Phase.CLOSED
        page.opens_at = now - timedelta(days=365 + 60)
        page.closes_at = now - timedelta(days=365)
        page.save_revision(user=facilitator).publish(user=facilitator)
        return page

    @staticmethod
    def _previous_link(page, en_page, previous: ConsultationPage) -> None:
        """Make `previous` the previous round of both translations (before the diagnosis runs,
        which compares with what the previous round published)."""
        for consultation in (page, en_page):
            if consultation is None:
                continue
            consultation = ConsultationPage.objects.get(pk=consultation.pk)
            if consultation.previous_round_id != previous.pk:
                consultation.previous_round = previous
                consultation.save_revision().publish()

    def _snapshot(self, page: ConsultationPage, facilitator) -> DiagnosisSnapshot:
        """The consultation's diagnosis with the default k, started and computed here through the
        run services, as a facilitator's click and a worker would (the existing one, if any)."""
        snapshot = DiagnosisSnapshot.objects.filter(consultation_key=page.translation_key).first()
        if snapshot is not None:
            return snapshot
        # Computed inside the transaction that starts it: the queueing that `diagnosis_run_start`
        # arranges for the commit then finds the run done (in-process, or on a worker when a
        # broker is configured) and leaves it alone.
        with transaction.atomic():
            run = diagnosis_run_start(page=page, user=facilitator)
            diagnosis_run_execute(run_id=run.pk)
        run.refresh_from_db()
        if run.status != DiagnosisRun.Status.DONE:
            raise CommandError(
                _("The demo diagnosis did not finish (%(status)s): %(error)s")
                % {"status": run.get_status_display(), "error": run.error_detail}
            )
        return run.snapshot

    def _results(self, page, en_page, snapshot, facilitator) -> tuple:
        """The published results page of the snapshot (prepared by the same service as the
        admin's button) with its three problems, and its English translation."""
        results = ResultsPage.objects.child_of(page).first()
        if results is None:
            draft = results_page_prepare(snapshot=snapshot, user=facilitator)
            draft = draft.get_latest_revision_as_object()
            draft.intro = RESULTS_INTRO_ES
            draft.method_notes = RESULTS_NOTES_ES
            draft.problems = self._problems(draft, page, snapshot)
            for problem in draft.problems.all():
                problem.full_clean(exclude=["page"])
            draft.save_revision(user=facilitator, log_action=True).publish(user=facilitator)
            results = ResultsPage.objects.get(pk=draft.pk)
        en_results = None
        if en_page is not None:
            en_results = ResultsPage.objects.child_of(en_page).first()
            if en_results is None:
                en_results = self._results_translate(results, facilitator)
        return results, en_results

    def _problems(self, results, page, snapshot) -> list[ResultsProblem]:
        """Three problems named from the snapshot: the themes whose lead category residents
        reported most, each in the barrios where the published numbers show it most (none when
        every barrio's count is hidden under k), with a resident's words where there are some."""
        es = Locale.objects.get(language_code="es")
        categories = {c.code: c for c in ConcernCategory.objects.filter(locale=es)}
        totals = dict(
            snapshot.results.filter(table="concerns_by_category").values_list(
                "category_key", "count"
            )
        )
        themes = sorted(
            PROBLEM_THEMES,
            key=lambda theme: -totals.get(categories[theme["codes"][0]].translation_key, 0),
        )[:3]
        publication = published_tables(snapshot, language="es")
        k = publication.k
        cells = publication.rows("concerns_by_area_category")
        problems = []
        for theme in themes:
            lead = categories[theme["codes"][0]]
            shown = sorted(
                (
                    row
                    for row in cells
                    if row.category_key == lead.translation_key
                    and row.area_id
                    and row.count is not None
                    and row.count >= k
                ),
                key=lambda row: (-row.count, row.area),
            )[:PROBLEM_AREAS]
            areas = list(Area.objects.filter(pk__in=[row.area_id for row in shown]))
            names = " y ".join(sorted(area.name for area in areas))
            with_areas, without = theme["title"][0]
            problem = ResultsProblem(
                page=results,
                locale=es,
                title=with_areas.format(areas=names) if areas else without,
                description=theme["description"][0],
            )
            problem.categories.set([categories[code] for code in theme["codes"]])
            problem.areas.set(areas)
            quote = self._quote(page, lead, areas)
            if quote is not None:
                problem.quotes = [("quote", {"concern": quote[0], "text": quote[1]})]
            problems.append(problem)
        return problems

    @staticmethod
    def _quote(page, category, areas) -> tuple[str, str] | None:
        """A quotable concern of the category (approved, not sensitive, with words), from the
        problem's first barrio when it has one there: (reference, its words in Spanish)."""
        concerns = quotable_concerns(consultation=page, category_key=category.translation_key)
        concern = None
        if areas:
            concern = concerns.filter(area=areas[0]).first()
        concern = concern or concerns.first()
        if concern is None:
            return None
        return concern.reference, _in_language(category.code, concern.description, "es")

    def _results_translate(self, results: ResultsPage, facilitator) -> ResultsPage:
        """The English results page, copied for translation as the consultation was, with the
        titles, descriptions and quotes in English."""
        en = Locale.objects.get(language_code="en")
        with transaction.atomic():
            translated = results.copy_for_translation(en)
            translated = ResultsPage.objects.get(pk=translated.pk)
            translated.title = translated.draft_title = "Results: Chapinero Cares"
            translated.slug = "results"
            translated.intro = RESULTS_INTRO_EN
            translated.method_notes = RESULTS_NOTES_EN
            english = {
                code: (theme["title"][1], theme["description"][1])
                for theme in PROBLEM_THEMES
                for code in theme["codes"][:1]
            }
            problems = []
            for problem in translated.problems.all():
                lead = _lead_code(problem)
                (with_areas, without), description = english[lead]
                areas = sorted(area.name for area in problem.areas.all())
                problem.title = with_areas.format(areas=" and ".join(areas)) if areas else without
                problem.description = description
                problem.quotes = [
                    (
                        "quote",
                        {
                            "concern": block.value["concern"],
                            "text": _in_language(lead, block.value["text"], "en"),
                        },
                    )
                    for block in problem.quotes
                ]
                problem.full_clean(exclude=["page"])
                problems.append(problem)
            translated.problems = problems
            translated.save_revision(user=facilitator, log_action=True).publish(user=facilitator)
        return ResultsPage.objects.get(pk=translated.pk)

    def _ballots(self, page, en_page) -> int:
        """Open the prioritisation for PRIORITISATION_DAYS in both languages and cast DEMO_BALLOTS
        ballots through the ballot service, each from its own device, about 1 in 6 in English.
        Returns how many were cast (0 when the demo already had ballots)."""
        closes = timezone.now() + timedelta(days=PRIORITISATION_DAYS)
        pages = [ConsultationPage.objects.get(pk=p.pk) for p in (page, en_page) if p is not None]
        for consultation in pages:
            if consultation.phase != ConsultationPage.Phase.PRIORITISATION:
                consultation.phase = ConsultationPage.Phase.PRIORITISATION
                consultation.prioritisation_closes_at = closes
                consultation.save_revision().publish()
        if PrioritisationBallot.objects.filter(consultation_key=page.translation_key).exists():
            return 0
        rng = random.Random(SEED + 3)
        problems = {p.locale.language_code: ballot_problems(p) for p in pages}
        cast = 0
        for _index in range(DEMO_BALLOTS):
            language = "en" if "en" in problems and rng.random() < 0.15 else "es"
            consultation = pages[1] if language == "en" else pages[0]
            offered = problems[language]
            preferences = list(BALLOT_PREFERENCES[: len(offered)])
            favourite = rng.choices(range(len(offered)), weights=preferences)[0]
            budget = consultation.prioritisation_points - rng.choice((0, 0, 0, 1, 2))
            given = {offered[favourite].key: rng.randint(budget // 2, budget)}
            rest = budget - given[offered[favourite].key]
            others = [i for i in range(len(offered)) if i != favourite]
            while rest > 0 and others:
                chosen = rng.choices(others, weights=[preferences[i] for i in others])[0]
                step = rng.randint(1, rest)
                given[offered[chosen].key] = given.get(offered[chosen].key, 0) + step
                rest -= step
            points = ballot_clean(
                problems=offered,
                given={key: str(value) for key, value in given.items()},
                points=consultation.prioritisation_points,
            )
            device = base64.urlsafe_b64encode(rng.getrandbits(256).to_bytes(32, "big"))
            ballot_submit(
                page=consultation,
                device_id=device.decode().rstrip("="),
                points=points,
                language=language,
            )
            cast += 1
        return cast

    def _print(self, page, en_page, results, users, programme) -> None:
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        rows = [(_("Site"), f"{base}/"), (_("Consultation"), f"{base}{page.url}")]
        if en_page is not None:
            rows.append((_("In English"), f"{base}{en_page.specific.url}"))
        rows.append((_("Walk reports"), f"{base}/es/walks/"))
        es_results, en_results = results
        rows.append((_("Results"), f"{base}{es_results.url}"))
        if en_results is not None:
            rows.append((_("Results in English"), f"{base}{en_results.url}"))
        rows.append((_("Prioritise"), f"{base}{page.url}{page.reverse_subpage('prioritise')}"))
        rows.append((_("Programme of commitments"), f"{base}{programme.url}"))
        rows.append((_("Admin site"), f"{base}/admin/"))
        width = max(len(label) for label, _url in rows) + 2
        lines = ["", _("Convive demo")]
        lines += [f"  {label + ':':<{width}}{url}" for label, url in rows]
        lines += ["", _("Accounts (username / password):")]
        roles = {
            "admin": _("superuser"),
            "facilitadora": _("facilitator"),
            "moderador": _("moderator"),
        }
        for username, (_user, secret) in users.items():
            lines.append(f"  {username:<13} {secret:<16} {roles[username]}")
        self.stdout.write("\n".join(lines))


def _in_language(code: str, text: str, language: str) -> str:
    """A demo description in `language` (the demo writes each one in Spanish and English, at the
    same place in DESCRIPTIONS); `text` itself when it is not one of them."""
    spanish, english = DESCRIPTIONS[code]
    for texts in (spanish, english):
        if text in texts:
            return (spanish if language == "es" else english)[texts.index(text)]
    return text


def _lead_code(problem) -> str:
    """The code of the theme a demo problem was named from (its first category in the theme)."""
    codes = set(problem.categories.values_list("code", flat=True))
    return next(theme["codes"][0] for theme in PROBLEM_THEMES if theme["codes"][0] in codes)


def _translated(raw: list[dict], items, language: str) -> list[dict]:
    """The Spanish questionnaire's raw data with the bank's wording in `language`, ids kept.

    What wagtail-localize does when a facilitator translates the page with the bank's wording
    offered (diagnosis.translation_prefill); the demo does it directly to stay quick.
    """
    wording = {source: texts[language] for source, texts in bank_translations(items, "es").items()}

    def swap(value):
        if isinstance(value, dict):
            return {
                key: wording.get(item, item) if key in TEXT_KEYS else swap(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    return [swap(block) for block in raw]


TEXT_KEYS = {"question", "help_text", "label", "unit"}


def _demo_answers(rng: random.Random, questions: dict, fear: float) -> dict:
    """One resident's answers to the demo questionnaire; `fear` tilts the perception answers."""

    def scale(code: str, tilt: float) -> str:
        values = questions[code].choice_values
        roll = rng.random()
        if roll < 0.04:
            return values[-1]  # prefer not to say / don't know
        return values[min(3, int((roll + tilt - 0.3) * 4)) if roll + tilt > 0.3 else 0]

    answers = {
        "bank-safe-night": scale("bank-safe-night", fear),
        "bank-safe-day": scale("bank-safe-day", fear - 0.3),
        "bank-safe-transport": scale("bank-safe-transport", fear - 0.1),
        "bank-trust-police": scale("bank-trust-police", 0.2),
        "bank-trust-municipality": scale("bank-trust-municipality", 0.1),
        "bank-gbv-protection": rng.choice(["yes", "no", "no", "dont-know"]),
    }
    if rng.random() < fear + 0.1:
        answers["bank-avoid-places"] = "yes"
        which = questions["bank-avoid-which"].choice_values
        why = questions["bank-avoid-why"].choice_values
        answers["bank-avoid-which"] = rng.sample(which[:6], rng.randint(1, 3))
        answers["bank-avoid-why"] = rng.sample(why[:5], rng.randint(1, 2))
        answers["bank-avoid-when"] = rng.choice(["night", "evening", "any"])
    else:
        answers["bank-avoid-places"] = "no"
    if rng.random() < 0.3:
        answers["bank-victim"] = "yes"
        types = questions["bank-victim-types"].choice_values
        answers["bank-victim-types"] = rng.sample(types[:8], rng.randint(1, 2))
        answers["bank-reported"] = "yes" if rng.random() < 0.35 else "no"
        if answers["bank-reported"] == "no":
            reasons = questions["bank-not-reported-why"].choice_values
            answers["bank-not-reported-why"] = rng.sample(reasons[:7], rng.randint(1, 2))
    else:
        answers["bank-victim"] = "no"
    return answers
