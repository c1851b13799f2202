"""The Yanzhou community-governance model as an installed tool: the command line
(``yanzhou-governance``, the same as ``python run.py`` in a checkout) is ``cli.main``."""
