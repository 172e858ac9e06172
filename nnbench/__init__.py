"""nnbench: can a trained neural network do what a classical matrix factorization does?

The pipeline's stages are subpackages (corpus -> methods -> metrics -> running -> results ->
report; studies above them); `nnbench.api` gathers what notebooks and the command line use:

>>> from nnbench.api import run_study
>>> res = run_study("quick", methods=("scipy-lu",), sizes=(8,))

Importing `nnbench` (or `nnbench.results`, or building a report) loads no torch."""

__version__ = "0.1.0"
