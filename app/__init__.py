"""hardstep core: steps, plans, checks, config, state and the host facade. No Textual here."""
