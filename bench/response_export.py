"""How long a questionnaire responses export takes, and how much memory it needs, at scale.

    .venv/bin/python bench/response_export.py \
        --database-url postgis://postgres@127.0.0.1:5432/convive_exports_bench [--responses 100000]

Migrates the database, then creates (or reuses) a consultation of its own, slug
`bench-response-export`, under the Spanish home page, with a 20-question questionnaire in two
versions (the second drops one question and adds another, as an editor would) made by the real
versioning service (`questionnaire_version_for`). It then inserts `--responses` responses
(60 % on version 1, 40 % on version 2; 80 % Spanish, 20 % English; some online, some on paper)
with about 18 answers each, in bulk: the submit service checks answers one resident at a time and
would measure nothing we want here. A conditional question is answered only when its condition is
met, so the file has the empty cells a real one has; a few text answers start like a formula. The
two tables are then ANALYZEd, as autovacuum would after such growth (without fresh statistics
PostgreSQL reads each chunk's answers with a sequential scan, and the export is ten times slower).

Each export (CSV, then XLSX, labels in Spanish) runs in a fresh Python process that calls the
job's own service, `response_export_run`, exactly as the Celery task does, and reports the wall
time, the peak resident memory (VmHWM) against the memory after Django started (VmRSS), the
responses written and the file size. A second, smaller size (`--compare`, default 10 % of the
responses: the first ones of the same consultation are not separable, so it uses a consultation
of its own) shows whether memory grows with the number of responses.

`--drop` deletes the benchmark consultations, their responses and exports, and exits.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta

from common import ROOT, django_setup, machine, memory_kb

SLUG = "bench-response-export"
MEDIA_ROOT = os.path.join(tempfile.gettempdir(), "convive-bench-media")

CHOICES = [
    ("muy-de-acuerdo", "Muy de acuerdo", "Strongly agree"),
    ("de-acuerdo", "De acuerdo", "Agree"),
    ("neutral", "Ni de acuerdo ni en desacuerdo", "Neither agree nor disagree"),
    ("en-desacuerdo", "En desacuerdo", "Disagree"),
    ("muy-en-desacuerdo", "Muy en desacuerdo", "Strongly disagree"),
]
SAFETY = [
    ("very-safe", "Muy seguro/a"),
    ("safe", "Seguro/a"),
    ("unsafe", "Inseguro/a"),
    ("very-unsafe", "Muy inseguro/a"),
]
PLACES = [
    ("park", "El parque"),
    ("bridge", "El puente"),
    ("bus-stop", "El paradero"),
    ("market", "La plaza de mercado"),
    ("school", "La salida del colegio"),
]
TEXTS = [
    "Más luz en la calle 63",
    "Que la policía pase de noche",
    "Arreglar el andén frente al parque",
    "Nada, me siento bien",
    "-no sé-",
    "=mejor iluminación",
    "Cámaras en el paradero y poda de árboles",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=None, help="a smaller size to compare")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--run-export", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    if args.compare is None:
        args.compare = max(args.responses // 10, 1)
    return args


def raw_question(kind, code, text, **extra):
    value = {
        "code": code,
        "question": text,
        "help_text": "",
        "required": False,
        "condition": {"question": "", "answer": ""},
        **extra,
    }
    if "condition_on" in value:
        target, answer = value.pop("condition_on")
        value["condition"] = {"question": target, "answer": answer}
    return {"type": kind, "value": value}


def choices(pairs):
    return [{"value": value, "label": label} for value, label, *_rest in pairs]


def questionnaire_v1() -> list[dict]:
    """Twenty questions: the mix a perception and victimisation survey has."""
    questions = [
        raw_question(
            "single_choice",
            "walk-alone",
            "¿Camina solo/a por su barrio después del anochecer?",
            choices=choices([("yes", "Sí"), ("no", "No, nunca")]),
        ),
        raw_question(
            "likert",
            "feel-safe",
            "¿Qué tan seguro/a se siente caminando solo/a de noche?",
            choices=choices(SAFETY),
            condition_on=("walk-alone", "yes"),
        ),
    ]
    for number in range(1, 7):
        questions.append(
            raw_question(
                "likert",
                f"agree-{number}",
                f"Afirmación {number}: el barrio es un lugar seguro para su familia.",
                choices=choices(CHOICES),
            )
        )
    for number in range(1, 4):
        questions.append(
            raw_question(
                "multiple_choice",
                f"avoid-{number}",
                f"¿Qué lugares evita ({number})?",
                choices=choices(PLACES),
            )
        )
    for number, (low, high) in enumerate(((0, 180), (0, 24), (0, 100)), start=1):
        questions.append(
            raw_question(
                "number",
                f"number-{number}",
                f"Pregunta numérica {number}",
                min_value=low,
                max_value=high,
                decimal=False,
                unit="minutos",
            )
        )
    questions += [
        raw_question(
            "single_choice",
            "victim",
            "¿Ha sido víctima de un delito en los últimos 12 meses?",
            choices=choices([("yes", "Sí"), ("no", "No"), ("unsaid", "Prefiero no decir")]),
        ),
        raw_question(
            "single_choice",
            "reported",
            "¿Lo denunció?",
            choices=choices([("yes", "Sí"), ("no", "No")]),
            condition_on=("victim", "yes"),
        ),
        raw_question("time_band", "avoid-time", "¿A qué horas evita salir?", multiple=True),
        raw_question("short_text", "street", "¿En qué calle vive?", max_length=120),
        raw_question("short_text", "where", "¿Dónde se siente menos seguro/a?", max_length=200),
        raw_question("long_text", "ideas", "¿Qué mejoraría la seguridad?", max_length=2000),
    ]
    assert len(questions) == 20
    return questions


def consultation_prepare(*, slug: str, title: str):
    """The benchmark consultation with its two questionnaire versions (made by the service)."""
    from cms.models import HomePage
    from diagnosis.models import ConsultationPage, QuestionnaireVersion
    from diagnosis.questionnaire_blocks import questionnaire_stream
    from diagnosis.services.questionnaires import questionnaire_version_for

    page = ConsultationPage.objects.filter(slug=slug).first()
    if page is None:
        home = HomePage.objects.filter(locale__language_code="es").first()
        if home is None:
            sys.exit("No Spanish home page: is this database migrated?")
        page = ConsultationPage(title=title, slug=slug, phase=ConsultationPage.Phase.LISTENING)
        home.add_child(instance=page)
    versions = list(
        QuestionnaireVersion.objects.filter(consultation_key=page.translation_key).order_by(
            "created_at", "pk"
        )
    )
    if len(versions) >= 2:
        return page, versions[:2]
    page.questionnaire = questionnaire_stream(questionnaire_v1())
    page.save_revision().publish()
    page = ConsultationPage.objects.get(pk=page.pk)
    first = questionnaire_version_for(page)
    raw = [block for block in page.questionnaire.raw_data if block["value"]["code"] != "where"]
    raw.insert(
        3,
        raw_question(
            "single_choice",
            "lighting",
            "¿Cómo es el alumbrado de su calle?",
            choices=choices([("good", "Bueno"), ("poor", "Malo"), ("none", "No hay")]),
        ),
    )
    page.questionnaire = questionnaire_stream(raw)
    page.save_revision().publish()
    page = ConsultationPage.objects.get(pk=page.pk)
    second = questionnaire_version_for(page)
    return page, [first, second]


def random_answer(question: dict, rng: random.Random, given: dict):
    condition = question.get("condition")
    if condition:
        seen = given.get(condition["question"])
        if not (
            seen == condition["value"] or (isinstance(seen, list) and condition["value"] in seen)
        ):
            return None
    if rng.random() < 0.05:
        return None  # left empty
    kind = question["type"]
    if kind in ("single_choice", "likert"):
        return rng.choice(question["choices"])
    if kind == "multiple_choice" or (kind == "time_band" and question.get("multiple")):
        picked = set(rng.sample(question["choices"], rng.randint(1, 3)))
        return [value for value in question["choices"] if value in picked]
    if kind == "time_band":
        return rng.choice(question["choices"])
    if kind == "number":
        return rng.randint(int(question["min"] or 0), int(question["max"] or 100))
    return rng.choice(TEXTS)


def responses_generate(*, page, versions, count: int, seed: int) -> int:
    """Insert responses until the consultation has `count`. Returns how many were added."""
    from django.db import transaction
    from django.utils import timezone

    from diagnosis.models import Answer, QuestionnaireResponse

    existing = QuestionnaireResponse.objects.filter(consultation_key=page.translation_key).count()
    missing = count - existing
    if missing <= 0:
        return 0
    rng = random.Random(seed + existing)
    structures = []
    for version in versions:
        structures.append(
            (
                version,
                [
                    {
                        "id": q["id"],
                        "code": q["code"],
                        "type": q["type"],
                        "multiple": q.get("multiple"),
                        "min": q.get("min"),
                        "max": q.get("max"),
                        "condition": q.get("condition"),
                        "choices": [c["value"] for c in q.get("choices", [])],
                    }
                    for q in version.questions
                ],
            )
        )
    start = timezone.now() - timedelta(days=60)
    batch = 2000
    added = 0
    while added < missing:
        size = min(batch, missing - added)
        responses, answers = [], []
        for offset in range(size):
            number = existing + added + offset
            version, questions = structures[0 if number < count * 0.6 else 1]
            responses.append(
                QuestionnaireResponse(
                    consultation=page,
                    consultation_key=page.translation_key,
                    version=version,
                    language="es" if rng.random() < 0.8 else "en",
                    submitted_at=start + timedelta(seconds=number * 50),
                    idempotency_key=uuid.uuid4(),
                    source="online" if rng.random() < 0.85 else "paper",
                    gender=rng.choice(["woman", "man", "non-binary", "unsaid", ""]),
                    age_band=rng.choice(["18-29", "30-44", "45-64", "65+", ""]),
                )
            )
            given: dict = {}
            for question in questions:
                value = random_answer(question, rng, given)
                if value is not None:
                    given[question["code"]] = value
            answers.append((questions, given))
        with transaction.atomic():
            QuestionnaireResponse.objects.bulk_create(responses, batch_size=batch)
            Answer.objects.bulk_create(
                (
                    Answer(
                        response=response,
                        block_id=question["id"],
                        question_code=question["code"],
                        value=given[question["code"]],
                    )
                    for response, (questions, given) in zip(responses, answers, strict=True)
                    for question in questions
                    if question["code"] in given
                ),
                batch_size=5000,
            )
        added += size
        print(f"  {existing + added:,} responses", end="\r", flush=True)
    print()
    return added


def run_export_here(export_id: int, chunk_size: int | None) -> None:
    """In the child process: run one export as the task does, print what it cost as JSON."""
    from diagnosis.models import ResponseExport
    from diagnosis.services.response_exports import CHUNK_SIZE, response_export_run

    before = memory_kb("VmRSS")
    started = time.perf_counter()
    ok = response_export_run(export_id=export_id, chunk_size=chunk_size or CHUNK_SIZE)
    seconds = time.perf_counter() - started
    export = ResponseExport.objects.get(pk=export_id)
    print(
        json.dumps(
            {
                "ok": ok,
                "status": export.status,
                "error": export.error_detail,
                "rows": export.rows_done,
                "seconds": seconds,
                "rss_before_kb": before,
                "peak_kb": memory_kb("VmHWM"),
                "bytes": export.file.size if export.file else 0,
            }
        )
    )


def export_in_child(args, page, fmt: str) -> dict:
    from diagnosis.models import ResponseExport

    export = ResponseExport.objects.create(
        consultation_key=page.translation_key,
        consultation=page,
        language="es",
        format=fmt,
    )
    command = [
        sys.executable,
        __file__,
        "--database-url",
        args.database_url,
        "--run-export",
        str(export.pk),
    ]
    if args.chunk_size:
        command += ["--chunk-size", str(args.chunk_size)]
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, "MEDIA_ROOT": MEDIA_ROOT}, capture_output=True
    )
    if done.returncode:
        sys.exit(done.stderr.decode())
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    # The file is not what is measured; do not let benchmark runs pile them up.
    export.refresh_from_db()
    if export.file:
        export.file.delete(save=False)
    export.delete()
    return result


def drop() -> None:
    from diagnosis.models import (
        ConsultationPage,
        QuestionnaireResponse,
        QuestionnaireVersion,
        ResponseExport,
    )

    for page in ConsultationPage.objects.filter(slug__startswith=SLUG):
        key = page.translation_key
        for export in ResponseExport.objects.filter(consultation_key=key):
            if export.file:
                export.file.delete(save=False)
            export.delete()
        QuestionnaireResponse.objects.filter(consultation_key=key).delete()
        QuestionnaireVersion.objects.filter(consultation_key=key).delete()
        page.delete()
    print("Dropped the benchmark consultations.")


def main() -> None:
    args = parse_args()
    os.environ["MEDIA_ROOT"] = MEDIA_ROOT
    django_setup(args.database_url)
    if args.run_export:
        run_export_here(args.run_export, args.chunk_size)
        return
    if args.drop:
        drop()
        return
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"Machine: {machine()}")
    sizes = [("large", args.responses)]
    if args.compare and args.compare != args.responses:
        sizes.insert(0, ("small", args.compare))
    results = []
    for name, count in sizes:
        slug = SLUG if name == "large" else f"{SLUG}-{name}"
        page, versions = consultation_prepare(slug=slug, title=f"Benchmark export ({name})")
        started = time.perf_counter()
        added = responses_generate(page=page, versions=versions, count=count, seed=args.seed)
        if added:
            print(f"Inserted {added:,} responses in {time.perf_counter() - started:.1f} s")
            # Fresh statistics, as autovacuum would give a table that grew this much: without
            # them PostgreSQL reads each chunk's answers with a sequential scan.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE diagnosis_questionnaireresponse")
                cursor.execute("ANALYZE diagnosis_answer")
        for fmt in args.formats.split(","):
            result = export_in_child(args, page, fmt)
            results.append((count, fmt, result))
            print(
                f"{count:>9,} responses, {fmt.upper():4}: {result['seconds']:6.1f} s "
                f"({result['rows'] / max(result['seconds'], 1e-9):,.0f} rows/s), "
                f"peak RSS {result['peak_kb'] / 1024:.0f} MB "
                f"(after Django start {result['rss_before_kb'] / 1024:.0f} MB), "
                f"file {result['bytes'] / 1024 / 1024:.1f} MB, status {result['status']}"
                + (f" {result['error']}" if result["error"] else "")
            )
    print(f"Load average after the run: {machine().split('load average ')[1]}")


if __name__ == "__main__":
    main()
