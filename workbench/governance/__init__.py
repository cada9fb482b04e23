"""Who may do what (policy), who people are (people) — the Five Safes' safe people and safe projects."""
