"""HTML views of a consultation (served through ConsultationPage routes)."""
