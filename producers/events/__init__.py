"""Event-driven refresh: AWS management events -> targeted refresh work for the describers."""
