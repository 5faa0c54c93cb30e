from django.urls import path

from arrears.web import concessions, outbox, team, views, workbench

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("loans/", views.loans_by_bucket, name="loans"),
    path("loans/<str:ref>/", views.loan_explain, name="explain"),
    path("queue/", workbench.queue, name="queue"),
    path("cases/<int:case_id>/", workbench.case_detail, name="case"),
    path("approvals/", concessions.approvals, name="approvals"),
    path("messages/", outbox.outbox, name="outbox"),
    path("team/", team.team_list, name="team"),
    path("team/dashboard/", team.team_dashboard, name="team-dashboard"),
]
