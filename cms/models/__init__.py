"""The site's models: the home and results pages (`pages`), and the accountability layer — the
programme of commitments answering a diagnosis, and residents' feedback on it (`programmes`)."""

from .pages import HomePage, ResultsPage, ResultsProblem
from .programmes import (
    CommitmentFeedback,
    CommitmentIndicator,
    CommitmentMilestone,
    CommitmentPage,
    CommitmentStatus,
    ProgrammePage,
)

__all__ = [
    "CommitmentFeedback",
    "CommitmentIndicator",
    "CommitmentMilestone",
    "CommitmentPage",
    "CommitmentStatus",
    "HomePage",
    "ProgrammePage",
    "ResultsPage",
    "ResultsProblem",
]
