"""dxrx: offline, explainable work-up of musculoskeletal and peripheral-nerve cases."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dxrx")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"

DISCLAIMER = (
    "dxrx is a decision-support and teaching tool. This work-up is generated from the text "
    "supplied and a referenced knowledge base; it is not a diagnosis, does not replace "
    "examination and clinical judgement by a qualified clinician, and must not be used as "
    "the sole basis for treatment. Seek urgent care for any red flag."
)
