"""The Textual screen: the only package that imports Textual."""
