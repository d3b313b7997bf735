"""hardstep wizard: Textual screens and widgets on top of the app core."""
