"""hardstep's shipped files (step texts, lab files, seccomp and AppArmor profiles, stylesheets).

A package only so that a wheel carries them and ``importlib.resources`` finds them: read them
through ``app.assets``, never by a path next to a checkout.
"""
