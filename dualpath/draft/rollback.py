"""A drafted rollback: its statements, the data that does not come back, the notes, and its SQL text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Draft:
    """A drafted rollback: statements plus what a reviewer must know."""

    statements: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)  # data that does not come back
    notes: list[str] = field(default_factory=list)  # guesses, and what could not be drafted

    @property
    def empty(self) -> bool:
        return not self.statements

    def lines(self, today: date | None = None) -> list[str]:
        """The draft as lines of SQL (no trailing newline): header comments, then one statement each."""
        day = (today or date.today()).isoformat()
        out = [f"-- drafted by dualpath from schema diff on {day}; review before use"]
        if self.irreversible:
            reason = "; ".join(self.irreversible).replace('"', "'")
            out.append(f'-- dualpath:irreversible reason="{reason}"')
        out += [f"-- review: {note}" for note in self.notes]
        out += [f"{statement};" for statement in self.statements]
        return out

    def text(self, today: date | None = None) -> str:
        return "\n".join(self.lines(today)) + "\n"
