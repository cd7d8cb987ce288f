# Not a case: the models the cases import (`from .models import ...`), so that the static
# models index knows their relations, as it would in the projects the reports came from.
from django.conf import settings
from django.db import models


class Note(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    body = models.TextField()


class Shelf(models.Model):
    label = models.CharField(max_length=40)


class Gadget(models.Model):
    name = models.CharField(max_length=40)
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)


class Ticket(models.Model):
    id = models.UUIDField(primary_key=True)
    opened_at = models.DateTimeField()
    closed = models.BooleanField(default=False)
