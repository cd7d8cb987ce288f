"""Project-level facts, read statically and cached once per run: the project index (models,
consumers, events), target versions and ``[tool.channels_lint]`` settings.

Nothing here imports Django or the analysed project.
"""

from channels_lint.config import NEWEST, Settings, add_settings_arguments, parse_version
from channels_lint.project.index import (
    MAX_DIRECTORIES,
    ROOT_MARKERS,
    SKIP_DIRS,
    ConsumerFact,
    ProjectIndex,
    find_root,
    read_regular_file,
)
from channels_lint.project.models import BUILTIN_USER, ModelInfo, ModelsIndex, models_in_module
from channels_lint.project.settings import pinned_versions, project_settings, tool_settings

__all__ = [
    "BUILTIN_USER",
    "MAX_DIRECTORIES",
    "NEWEST",
    "ROOT_MARKERS",
    "SKIP_DIRS",
    "ConsumerFact",
    "ModelInfo",
    "ModelsIndex",
    "ProjectIndex",
    "Settings",
    "add_settings_arguments",
    "find_root",
    "models_in_module",
    "parse_version",
    "pinned_versions",
    "project_settings",
    "read_regular_file",
    "tool_settings",
]
