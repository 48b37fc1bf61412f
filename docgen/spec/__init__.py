"""The spec stage: what a user writes (YAML, dict or Pydantic) in, a validated Document out."""
from .load import load_file, parse_yaml, validate
from .models import Document, Generate, Localized, text_in

__all__ = ["Document", "Generate", "Localized", "load_file", "parse_yaml", "text_in", "validate"]
