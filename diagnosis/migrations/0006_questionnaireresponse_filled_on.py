from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("diagnosis", "0005_responseexport")]

    operations = [
        migrations.AddField(
            model_name="questionnaireresponse",
            name="filled_on",
            field=models.DateField(blank=True, null=True, verbose_name="date on the form"),
        ),
    ]
