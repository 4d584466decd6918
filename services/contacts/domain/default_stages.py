"""The lifecycle stages ("Sessão / Ciclo de vida") a new account starts with."""

from __future__ import annotations

from typing import Final

# (key, name as pt-BR users see it), in funnel order.
DEFAULT_LIFECYCLE_STAGES: Final[tuple[tuple[str, str], ...]] = (
    ("lead", "Lead"),
    ("lead_qualificado", "Lead qualificado"),
    ("oportunidade", "Oportunidade"),
    ("cliente", "Cliente"),
    ("evangelista", "Evangelista"),
    ("inativo", "Inativo"),
)
