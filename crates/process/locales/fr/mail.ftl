### claimdesk : les courriels, en français.
### Chaque identifiant et chaque attribut existent aussi dans ../ar/mail.ftl (un test le
### vérifie). Le texte n’utilise ni « < » ni « > » ni « & » : il est repris tel quel dans la
### partie HTML, où seules les valeurs sont échappées.

## Commun

mail-greeting = Bonjour,
mail-greeting-named = Bonjour { $name },
mail-track = Pour suivre votre réclamation : { $link }
mail-signature = Le service des réclamations
mail-automatic = Ce message est envoyé automatiquement ; merci de ne pas y répondre.
mail-utc = { $date } (UTC)

## Au client

filed =
    .subject = Réclamation { $number } enregistrée : « { $subject } »
    .intro = Votre réclamation « { $subject } » a bien été enregistrée le { $date } sous le numéro { $number }.
    .after = Conservez ce numéro : avec votre adresse électronique { $email }, il vous permet de suivre votre réclamation, d’écrire au service qui la traite, de la clôturer ou de la rouvrir.
answered =
    .subject = Réclamation { $number } : le service vous a répondu
    .intro = { $entity } a répondu à votre réclamation { $number } :
    .after = Si cette réponse ne règle pas votre demande, écrivez-nous depuis la page de suivi. Sans réaction de votre part, la réclamation sera clôturée automatiquement le { $deadline }.
entity_message =
    .subject = Réclamation { $number } : nouveau message
    .intro = { $entity } vous a écrit au sujet de votre réclamation { $number } :
    .after = Vous pouvez répondre depuis la page de suivi.
closed =
    .subject = Réclamation { $number } clôturée
    .intro = Votre réclamation { $number } a été clôturée le { $date }.
    .after = Si votre demande n’est pas réglée, vous pouvez rouvrir la réclamation depuis la page de suivi en indiquant pourquoi.
auto_closed =
    .subject = Réclamation { $number } clôturée automatiquement
    .intro = Faute de réaction de votre part depuis la réponse du { $answered }, votre réclamation { $number } a été clôturée automatiquement le { $date }.
    .after = Si votre demande n’est pas réglée, vous pouvez rouvrir la réclamation depuis la page de suivi en indiquant pourquoi.
reopened =
    .subject = Réclamation { $number } rouverte
    .intro = Votre réclamation { $number } a été rouverte le { $date }. { $entity } va la traiter de nouveau.
    .after = Nous vous écrirons dès qu’une réponse sera disponible.
reminder =
    .subject = Réclamation { $number } : clôture automatique le { $deadline }
    .intro = Votre réclamation { $number } a reçu une réponse le { $answered }. Sans réaction de votre part, elle sera clôturée automatiquement le { $deadline }.
    .after = Si la réponse ne règle pas votre demande, dites-le-nous : { $link }

## Au service qui traite la réclamation

new_claim =
    .subject = Nouvelle réclamation { $number } : « { $subject } »
    .intro = Une nouvelle réclamation vous a été attribuée : { $number }, « { $subject } », déposée le { $date } en { $language }.
    .after = Elle figure dans la file d’attente de votre service.
client_message =
    .subject = Réclamation { $number } : message du client
    .intro = Le client a écrit au sujet de la réclamation { $number } (« { $subject } ») :
    .after = La réclamation attend de nouveau votre service.
transferred =
    .subject = Réclamation { $number } transférée à votre service
    .intro = La réclamation { $number } (« { $subject } ») a été transférée à votre service par { $from }, pour ce motif :
    .after = Elle figure dans la file d’attente de votre service.

## Valeurs

language-fr = français
language-ar = arabe
