"""The MLModels endpoints follow, as the MLModel kind publishes them."""

from controller.kinds.mlmodel.published import ModelView

__all__ = ["ModelView"]
