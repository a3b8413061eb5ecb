"""Mail: messages built safely (message.py), their texts (compose.py), SMTP (smtp.py), the worker."""
