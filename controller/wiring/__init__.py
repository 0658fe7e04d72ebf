"""How a kind is wired to kopf: one declaration per kind (`Kind`), one factory (`register`) for them all."""
