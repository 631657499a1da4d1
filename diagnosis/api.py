"""Public data endpoints of a consultation (served through ConsultationPage routes)."""
