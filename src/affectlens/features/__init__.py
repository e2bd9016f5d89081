"""Pure feature functions over numpy arrays (no model, no I/O): spectra and prosody.

Kept apart from recognizers so that training recipes, recognizers, benchmarks and tests
compute features with exactly the same code, and so each function can be tested on
synthetic signals with known answers.
"""
