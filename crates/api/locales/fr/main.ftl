### claimdesk : messages de l’API en français.
### Chaque identifiant existe aussi dans ../ar/main.ftl (un test le vérifie).

## Problèmes (application/problem+json) : titre et détail

problem-bad-request-title = Requête mal formée
problem-bad-request-detail = La requête est mal formée : corps illisible, JSON ou formulaire invalide, ou en-tête incorrect.
problem-unauthorized-title = Authentification requise
problem-unauthorized-detail = Les identifiants sont absents, invalides ou expirés.
problem-forbidden-title = Accès refusé
problem-forbidden-detail = Vous n’êtes pas autorisé à effectuer cette action.
problem-not-found-title = Introuvable
problem-not-found-detail = La ressource demandée n’existe pas ou ne vous est pas accessible.
problem-conflict-title = Action impossible pour le moment
problem-conflict-detail = L’action n’est pas possible dans l’état actuel de la réclamation. Actualisez la page puis réessayez.
problem-conflict-concurrent-change = La réclamation vient d’être modifiée par ailleurs. Actualisez la page puis réessayez.
problem-conflict-claim-closed = La réclamation est clôturée : seul le client peut la rouvrir, en indiquant un motif.
problem-conflict-not-closed = La réclamation n’est pas clôturée : elle ne peut donc pas être rouverte.
problem-conflict-not-answered = La réclamation n’a pas encore reçu de réponse.
problem-conflict-request-in-progress = Une requête identique est déjà en cours de traitement. Patientez quelques instants.
problem-payload-too-large-title = Contenu trop volumineux
problem-payload-too-large-detail = La taille maximale autorisée est de { $size }.
problem-unsupported-media-type-title = Type de contenu non accepté
problem-unsupported-media-type-detail = Seuls les fichiers PDF, les images (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC) et les archives ZIP de ces fichiers sont acceptés. Le type est déterminé d’après le contenu du fichier, non d’après son nom.
problem-unsupported-media-type-empty = Le fichier envoyé est vide.
problem-unsupported-media-type-archive-entry = L’archive contient un fichier refusé : « { $name } ». Une archive ZIP ne peut contenir que des fichiers PDF ou des images.
problem-unsupported-media-type-archive-encrypted = Les archives ZIP protégées par un mot de passe ne sont pas acceptées.
problem-unsupported-media-type-archive-nested = Une archive ZIP ne peut pas contenir d’autres archives.
problem-unsupported-media-type-archive-too-large = Une archive ZIP ne peut pas contenir de fichier de plus de 20 Mo, ni plus de 200 Mo de fichiers en tout une fois décompressée.
problem-unsupported-media-type-archive-unreadable = L’archive ZIP est endommagée, vide ou contient trop de fichiers.
problem-unsupported-media-type-expected-json = Le corps de la requête doit être envoyé au format JSON (Content-Type: application/json).
problem-unsupported-media-type-expected-multipart = Le fichier doit être envoyé au format multipart/form-data.
problem-unprocessable-title = Requête non traitable
problem-unprocessable-idempotency-key = Cette clé d’idempotence a déjà servi pour une requête différente.
problem-validation-failed-title = Données invalides
problem-validation-failed-detail =
    { $count ->
        [one] Un champ est à corriger.
       *[other] { $count } champs sont à corriger.
    }
problem-captcha-invalid-title = Code de vérification incorrect
problem-captcha-invalid-detail = Le code de vérification est incorrect, expiré ou déjà utilisé. Saisissez le code d’une nouvelle image.
problem-too-many-requests-title = Trop de tentatives
problem-too-many-requests-detail-seconds =
    { $seconds ->
        [one] Veuillez réessayer dans { $seconds } seconde.
       *[other] Veuillez réessayer dans { $seconds } secondes.
    }
problem-too-many-requests-detail-minutes =
    { $minutes ->
        [one] Veuillez réessayer dans { $minutes } minute.
       *[other] Veuillez réessayer dans { $minutes } minutes.
    }
problem-internal-title = Erreur interne
problem-internal-detail = Une erreur inattendue s’est produite. Veuillez réessayer plus tard.

## Tailles

size-megabytes = { $n } Mo
size-kilobytes = { $n } Ko
size-bytes = { $n } octets

## Erreurs de champ

field-required = Ce champ est obligatoire.
field-blank = Ce champ ne peut pas contenir uniquement des espaces ou des caractères invisibles.
field-too-long = Ce champ ne doit pas dépasser { $max } caractères.
field-text-too-long = Ce texte est trop long.
field-too-many = Au plus { $max } éléments sont acceptés.
field-unknown-code = Cette valeur ne fait pas partie des choix proposés.
field-invalid-email = Adresse email invalide : elle doit contenir un seul @ et aucun espace.
field-invalid-phone = Numéro de téléphone invalide : chiffres, espaces et signes + - . ( ) uniquement.
field-legal-person-only = Ce champ ne concerne que les personnes morales.
field-natural-person-only = Ce champ ne concerne que les personnes physiques.
field-duplicate = Cette valeur figure déjà dans la liste.
field-control-characters = Ce champ contient des caractères non autorisés.
field-captcha-invalid = Le code est incorrect, expiré ou déjà utilisé : saisissez le code d’une nouvelle image.
field-unknown-upload = Ce fichier est inconnu ou a expiré : envoyez-le de nouveau.
field-attachment-too-large = Chaque pièce jointe doit faire au plus 20 Mo.
field-satisfaction-out-of-range = Le niveau de satisfaction doit être compris entre 1 et 5.
field-invalid = Valeur invalide.

## Statuts d’une réclamation

status-pending = En attente de traitement
status-answered = Répondue
status-closed = Clôturée

## Historique d’une réclamation

history-filed = Réclamation déposée
history-routed = Réclamation transmise à l’entité de traitement
history-transferred = Réclamation transférée à une autre entité
history-answered = Réponse de l’entité de traitement
history-message-client = Message du client
history-message-entity = Message de l’entité de traitement
history-closed-client = Clôturée par le client
history-closed-entity = Clôturée par l’entité de traitement
history-closed-auto = Clôturée automatiquement
history-reopened = Réclamation rouverte

problem-method-not-allowed-title = Méthode non autorisée
problem-method-not-allowed-detail = Cette adresse n’accepte pas cette méthode HTTP.
